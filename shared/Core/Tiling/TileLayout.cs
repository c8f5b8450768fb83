namespace EdgePatchCore.Tiling;

/// <summary>
/// The tiles covering a scaled frame of <see cref="Width"/> x <see cref="Height"/> pixels: every combination of a
/// column origin and a row origin, row-major (tile t = row * Columns + column). Together they cover every pixel; no
/// tile reaches past the frame.
/// </summary>
public sealed record TileLayout(int Width, int Height, int TileSize, int[] ColumnOrigins, int[] RowOrigins)
{
    /// <summary>Tiles per backbone and kNN call (a run): the scorer, the build and the extension feed tiles in runs of this many.</summary>
    public const int TilesPerRun = 8;

    public int Columns => ColumnOrigins.Length;
    public int Rows => RowOrigins.Length;
    public int Count => Columns * Rows;

    /// <summary>The top-left corner of tile <paramref name="tile"/> in scaled-frame pixels.</summary>
    public (int X, int Y) Origin(int tile) => (ColumnOrigins[tile % Columns], RowOrigins[tile / Columns]);

    /// <summary>
    /// Origins along one side of <paramref name="length"/> pixels: as few tiles as give every neighbour pair at least
    /// <paramref name="overlap"/> pixels in common, spread evenly, the first at 0 and the last at length - tile.
    /// A side of exactly one tile has one origin (0); a shorter one is not allowed (the frame is stretched to a tile first).
    /// </summary>
    public static int[] Origins(int length, int tile, int overlap)
    {
        if (length < tile) throw new ArgumentOutOfRangeException(nameof(length), $"side {length} is shorter than a tile ({tile})");
        if (overlap < 0 || overlap >= tile) throw new ArgumentOutOfRangeException(nameof(overlap));
        if (length == tile) return [0];
        int step = tile - overlap;
        int count = 1 + (int)Math.Ceiling((double)(length - tile) / step);
        var origins = new int[count];
        // Even spacing: origin i = round(i * (length - tile) / (count - 1)); every step is at most tile - overlap.
        for (int i = 0; i < count; i++) origins[i] = (int)Math.Round((double)i * (length - tile) / (count - 1));
        return origins;
    }
}
