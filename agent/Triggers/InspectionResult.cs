using System.Text.Json;
using System.Text.Json.Serialization;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>The one answer to a trigger, on {prefix}/result (edgepatchcore.result/1; docs/agent.md has the schema).</summary>
public sealed record InspectionResult
{
    public const string SchemaName = "edgepatchcore.result/1";
    public const string Ok = "OK", Nok = "NOK", Review = "REVIEW", Error = "ERROR";

    public string Schema { get; init; } = SchemaName;
    public required string PartId { get; init; }
    /// <summary>OK, NOK, REVIEW (in the band below the threshold: an operator decides) or ERROR.</summary>
    public required string Result { get; init; }
    /// <summary>ERROR only: one of <see cref="ResultCode"/>.</summary>
    public string? Reason { get; init; }
    public string? Detail { get; init; }
    public float? Score { get; init; }
    public float? Threshold { get; init; }
    public VerdictModel? Model { get; init; }
    public string? Product { get; init; }
    public string? FrameId { get; init; }
    public VerdictCamera? Camera { get; init; }
    public required DateTimeOffset TriggeredAt { get; init; }
    public required DateTimeOffset AnsweredAt { get; init; }
    /// <summary>From the trigger's arrival to this answer.</summary>
    public required double TriggerToResultMs { get; init; }
    /// <summary>True on {prefix}/result/late: the part was answered ERROR at its deadline before this came.</summary>
    public bool Late { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);
    public static InspectionResult? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<InspectionResult>(json, Json);
}
