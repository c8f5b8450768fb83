namespace EdgePatchCore.Synthetic;

public sealed record SheetOptions
{
    public int Seed { get; init; }
    public int Width { get; init; } = 1600;
    public int Height { get; init; } = 1200;
    public int TrainCount { get; init; } = 10;
    public int TestGoodCount { get; init; } = 12;
    public int TestPerDefect { get; init; } = 6;
    /// <summary>
    /// Stains 160 to 240 pixels across and 6 to 9 grey levels deep instead of 20 to 40 and 10 to 15: a defect only the whole view shows
    /// (no tile holds more than a gentle shading of it).
    /// </summary>
    public bool LargeStains { get; init; }
}
