using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>One `trainer extend` step in a model's history: what was added to its parent.</summary>
[MessagePackObject]
public sealed record ModelExtension
{
    [Key(0)] public required string ParentId { get; init; }
    [Key(1)] public required DateTime AtUtc { get; init; }
    [Key(2)] public required int AddedImages { get; init; }
    [Key(3)] public required string AddedFingerprint { get; init; }
    [Key(4)] public required int AddedRows { get; init; }
    [Key(5)] public required long AddedPatches { get; init; }
    [Key(6)] public required bool Recalibrated { get; init; }
}
