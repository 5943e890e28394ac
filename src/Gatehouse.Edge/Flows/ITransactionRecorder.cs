using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Flows;

/// <summary>Takes transaction log records from the data path; must never block.</summary>
public interface ITransactionRecorder
{
    /// <summary>Queues <paramref name="record"/>; drops it (and counts the drop) when the queue is full.</summary>
    /// <param name="record">The record.</param>
    void Record(TransactionLogRecord record);
}
