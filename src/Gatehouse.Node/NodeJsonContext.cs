using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Wire.Enrollment;

namespace Gatehouse.Node;

/// <summary>
/// The JSON contracts of the portal calls a node makes, source-generated: a native-compiled agent
/// has no reflection-based serializer to fall back on.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DeviceEnrollRequest))]
[JsonSerializable(typeof(ServiceEnrollRequest))]
[JsonSerializable(typeof(RenewRequest))]
[JsonSerializable(typeof(EnrollResponse))]
internal sealed partial class NodeJsonContext : JsonSerializerContext;
