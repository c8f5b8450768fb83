using MessagePack;

namespace EdgePatchCore.Artifacts;

[MessagePackObject]
public sealed record Manifest
{
    [Key(0)] public required string Product { get; init; }
    [Key(1)] public required DateTime CreatedAtUtc { get; init; }
    [Key(2)] public required string TrainerVersion { get; init; }
    [Key(3)] public required int TrainingImageCount { get; init; }
    [Key(4)] public int CalibrationImageCount { get; init; }
    /// <summary>SHA-256 over the training files' names and sizes: tells whether two builds saw the same data.</summary>
    [Key(5)] public required string DatasetFingerprint { get; init; }
    [Key(6)] public Dictionary<string, string> BuildOptions { get; init; } = new();
    [Key(7)] public long TrainingPatchCount { get; init; }
    [Key(8)] public float CoverageRadius { get; init; }
    [Key(9)] public double BuildSeconds { get; init; }
    /// <summary>Evaluation figures, when the build ran one (name -> value).</summary>
    [Key(10)] public Dictionary<string, double>? Evaluation { get; init; }
    /// <summary>The model this one was extended from (`trainer extend`); null for a full build.</summary>
    [Key(11)] public string? ParentId { get; init; }
    /// <summary>Every extension since the full build, oldest first.</summary>
    [Key(12)] public List<ModelExtension>? Extensions { get; init; }
    /// <summary>The training frames' size (the first one's), so that scoring frames of another size can be warned about; 0 when unknown.</summary>
    [Key(13)] public int FrameWidth { get; init; }
    [Key(14)] public int FrameHeight { get; init; }
}
