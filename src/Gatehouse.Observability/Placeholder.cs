namespace Gatehouse.Observability;
