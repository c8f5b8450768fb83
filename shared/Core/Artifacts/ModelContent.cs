using System.Runtime.InteropServices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Calibration;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>Everything a scorer needs: the payload of a .pcb artifact (docs/design.md, "Artifact (.pcb)").</summary>
[MessagePackObject]
public sealed record ModelContent
{
    [Key(0)] public required Manifest Manifest { get; init; }
    [Key(1)] public required PreparedBackbone Backbone { get; init; }
    [Key(2)] public required InputSpec Input { get; init; }
    [Key(3)] public required EmbeddingSpec Embedding { get; init; }
    [Key(4)] public required MemoryBank Bank { get; init; }
    [Key(5)] public required ScoringSpec Scoring { get; init; }
    [Key(6)] public CalibrationSummary? Calibration { get; init; }
    /// <summary>The space the coreset was selected in, so that `trainer extend` can continue the selection (null in models that cannot be
    /// extended).</summary>
    [Key(7)] public SelectionSpace? Selection { get; init; }
    /// <summary>Tiled inspection (`trainer build --tile N`); null: the whole frame is resized to <see cref="Input"/>.</summary>
    [Key(8)] public Tiling.TilingSpec? Tiling { get; init; }
    /// <summary>A tiled model's whole-frame scale (docs/TILING.md, "Both scales"); null: tiles only, or a whole-frame model.</summary>
    [Key(9)] public WholeFrameView? WholeFrame { get; init; }

    /// <summary>
    /// The whole-frame scale as a model of its own: the whole frame resized to <see cref="Input"/>, its bank, its threshold. Its inputs
    /// are flattened as <see cref="WholeFrameView.Flattening"/> says before they are scored (<see cref="Scoring.PatchCoreScorer"/> does).
    /// </summary>
    public ModelContent? WholeFrameModel() => WholeFrame is not { } view ? null : this with
    {
        Tiling = null, WholeFrame = null, Bank = view.Bank,
        Scoring = Scoring with { Threshold = view.Threshold }, Calibration = null, Selection = null,
    };

    /// <summary>What a frame's features depend on: the backbone, its layers, the input spec and the tiling. Models with the same spec embed a frame
    /// alike.</summary>
    public string FeatureSpec() => $"{Backbone.Source}; {string.Join("+", Embedding.Layers)}; {Embedding.Dimensions}-d; {Input}"
                                   + (Tiling is null ? "" : $"; {Tiling}");

    /// <summary>Network inputs per frame of this size: its tiles, or 1.</summary>
    public int InputsPerFrame(int frameWidth, int frameHeight) => Tiling?.Layout(frameWidth, frameHeight).Count ?? 1;
}
