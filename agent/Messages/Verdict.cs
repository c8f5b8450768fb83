using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgePatchCore.Agent.Messages;

/// <summary>One frame's result, the JSON of the MQTT table in docs/agent.md on {prefix}/verdict.</summary>
public sealed record Verdict
{
    public const string SchemaName = "edgepatchcore.verdict/1";
    public const string Ok = "ok", Defect = "defect", Error = "error";

    public string Schema { get; init; } = SchemaName;
    public required string FrameId { get; init; }
    public required string Source { get; init; }
    /// <summary>The part a trigger asked for (its answer is on {prefix}/result); null for untriggered frames.</summary>
    public string? PartId { get; init; }
    /// <summary>The camera's frame id and timestamp (GenICam cameras).</summary>
    public VerdictCamera? Camera { get; init; }
    public string? Product { get; init; }
    public VerdictModel? Model { get; init; }
    public required DateTimeOffset CapturedAt { get; init; }
    public required DateTimeOffset ScoredAt { get; init; }
    [JsonPropertyName("verdict")] public required string Result { get; init; }
    public float? Score { get; init; }
    public float? Threshold { get; init; }
    public float? NormalizedScore { get; init; }
    public VerdictRegion? Region { get; init; }
    /// <summary>An ok part in the REVIEW band (Agent:ReviewRate): an operator should look at it; null where the model has no band.</summary>
    public bool? Review { get; init; }
    public required VerdictLatency LatencyMs { get; init; }
    [JsonPropertyName("error")] public string? ErrorText { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);
    public static Verdict? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<Verdict>(json, Json);
}
