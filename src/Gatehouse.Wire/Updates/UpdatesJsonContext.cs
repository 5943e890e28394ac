using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Updates;

/// <summary>The JSON of update descriptors and events (camelCase), generated at build time so the native agent can read it.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RolloutDescriptor))]
[JsonSerializable(typeof(UpdateEventReport))]
[JsonSerializable(typeof(string[]))]
public sealed partial class UpdatesJsonContext : JsonSerializerContext;
