namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>The Sparkplug topic namespace: spBv1.0/{group}/{type}/{edge node}[/{device}], and spBv1.0/STATE/{host}.</summary>
public sealed record SparkplugTopics(string GroupId, string EdgeNodeId)
{
    public const string Namespace = "spBv1.0";

    public string Node(string type) => $"{Namespace}/{GroupId}/{type}/{EdgeNodeId}";
    public string Device(string type, string deviceId) => $"{Namespace}/{GroupId}/{type}/{EdgeNodeId}/{deviceId}";
    public string NodeCommands => Node("NCMD");
    public string DeviceCommands => $"{Namespace}/{GroupId}/DCMD/{EdgeNodeId}/+";
    public static string State(string hostId) => $"{Namespace}/STATE/{hostId}";

    /// <summary>Group, edge node and device ids are single topic levels: no '/', '+' or '#'.</summary>
    public static bool IsValidId(string? id) => !string.IsNullOrWhiteSpace(id) && id.IndexOfAny(['/', '+', '#']) < 0;

    /// <summary>A product name as a device id: the characters a topic level cannot hold become '_'.</summary>
    public static string DeviceIdOf(string product) =>
        new(product.Select(c => c is '/' or '+' or '#' || char.IsControl(c) ? '_' : c).ToArray());
}
