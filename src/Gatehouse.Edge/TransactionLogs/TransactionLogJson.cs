using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// The JSON of records in files, syslog messages and portal batches: the web defaults (camelCase,
/// as the portal reads them), nulls left out, generated at build time so no reflection runs per record.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TransactionLogRecord))]
[JsonSerializable(typeof(TransactionLogBatch))]
[JsonSerializable(typeof(TransactionLogBatchResult))]
internal sealed partial class TransactionLogJson : JsonSerializerContext;
