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
    /// <summary>The space the coreset was selected in, so that `trainer extend` can continue the selection (null in models that cannot be extended).</summary>
    [Key(7)] public SelectionSpace? Selection { get; init; }
    /// <summary>Tiled inspection (`trainer build --tile N`); null: the whole frame is resized to <see cref="Input"/>.</summary>
    [Key(8)] public Tiling.TilingSpec? Tiling { get; init; }

    /// <summary>What a frame's features depend on: the backbone, its layers, the input spec and the tiling. Models with the same spec embed a frame alike.</summary>
    public string FeatureSpec() => $"{Backbone.Source}; {string.Join("+", Embedding.Layers)}; {Embedding.Dimensions}-d; {Input}"
                                   + (Tiling is null ? "" : $"; {Tiling}");

    /// <summary>Network inputs per frame of this size: its tiles, or 1.</summary>
    public int InputsPerFrame(int frameWidth, int frameHeight) => Tiling?.Layout(frameWidth, frameHeight).Count ?? 1;
}

/// <summary>
/// The int8 space the greedy selection ran in: the (principal-axes aligned) random projection D -> d, the
/// quantization scale, and the squared coverage radius the selection reached, in int8 units.
/// </summary>
[MessagePackObject]
public sealed record SelectionSpace
{
    [Key(0)] public required int InputDimensions { get; init; }
    [Key(1)] public required int OutputDimensions { get; init; }
    /// <summary>The projection matrix, D x d float32, row-major (little-endian bytes).</summary>
    [Key(2)] public required byte[] Projection { get; init; }
    [Key(3)] public required float Scale { get; init; }
    [Key(4)] public required int RadiusSquared { get; init; }

    public void Validate(int columns)
    {
        if (InputDimensions != columns || OutputDimensions is < 1 or > Coreset.QuantizedRows.MaxDimensions
            || Projection is null || Projection.LongLength != (long)InputDimensions * OutputDimensions * 4
            || !(Scale > 0) || !float.IsFinite(Scale) || RadiusSquared < 0)
            throw new ArtifactException("selection space sizes out of range");
    }
}

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

[MessagePackObject]
public sealed record EmbeddingSpec
{
    [Key(0)] public required string[] Layers { get; init; }
    /// <summary>Neighbourhood of the local average (3 = 3x3).</summary>
    [Key(1)] public int PatchSize { get; init; } = 3;
    [Key(2)] public int Stride { get; init; } = 1;
    [Key(3)] public required int Dimensions { get; init; }
    [Key(4)] public required int GridWidth { get; init; }
    [Key(5)] public required int GridHeight { get; init; }
}

/// <summary>Bank element type in the artifact.</summary>
public enum BankElementType { Float32 = 0 }

/// <summary>The coreset memory bank (rows x columns, little-endian) and its Eq. 7 neighbour table.</summary>
[MessagePackObject]
public sealed record MemoryBank
{
    [Key(0)] public required int Rows { get; init; }
    [Key(1)] public required int Columns { get; init; }
    [Key(2)] public BankElementType ElementType { get; init; } = BankElementType.Float32;
    [Key(3)] public required byte[] Data { get; init; }
    /// <summary>b: entries per row of the neighbour table; column 0 is the entry itself.</summary>
    [Key(4)] public required int NeighbourCount { get; init; }
    /// <summary>Rows x b int32, little-endian.</summary>
    [Key(5)] public required byte[] Neighbours { get; init; }

    public static MemoryBank FromFloats(float[] rows, int count, int columns, int[] neighbours, int neighbourCount) => new()
    {
        Rows = count,
        Columns = columns,
        Data = MemoryMarshal.AsBytes(rows.AsSpan(0, count * columns)).ToArray(),
        NeighbourCount = neighbourCount,
        Neighbours = MemoryMarshal.AsBytes(neighbours.AsSpan()).ToArray(),
    };

    public float[] ToFloats() => MemoryMarshal.Cast<byte, float>(Data).ToArray();
    public int[] NeighbourIndices() => MemoryMarshal.Cast<byte, int>(Neighbours).ToArray();

    /// <summary>Throws when the sizes do not add up or an index points outside the bank.</summary>
    public void Validate()
    {
        if (!BitConverter.IsLittleEndian) throw new ArtifactException("big-endian machines are not supported");
        if (Rows <= 0 || Columns <= 0) throw new ArtifactException($"bank has {Rows} x {Columns} entries");
        if (ElementType != BankElementType.Float32) throw new ArtifactException($"bank element type {ElementType} is not supported");
        if (Data.LongLength != (long)Rows * Columns * 4)
            throw new ArtifactException($"bank holds {Data.LongLength} bytes, expected {Rows} x {Columns} x 4");
        if (NeighbourCount < 1 || NeighbourCount > Math.Min(Rows, ArtifactFile.MaxNeighbourCount))
            throw new ArtifactException($"neighbour table has b = {NeighbourCount} for {Rows} rows (1..{Math.Min(Rows, ArtifactFile.MaxNeighbourCount)})");
        if (Neighbours.LongLength != (long)Rows * NeighbourCount * 4)
            throw new ArtifactException($"neighbour table holds {Neighbours.LongLength} bytes, expected {Rows} x {NeighbourCount} x 4");
        foreach (var i in MemoryMarshal.Cast<byte, int>(Neighbours))
            if ((uint)i >= (uint)Rows) throw new ArtifactException($"neighbour table refers to row {i} of {Rows}");
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(MemoryMarshal.Cast<byte, float>(Data)))
            throw new ArtifactException("bank holds values that are not finite numbers");
    }
}
