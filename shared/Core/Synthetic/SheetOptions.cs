namespace EdgePatchCore.Synthetic;

public sealed record SheetOptions
{
    public int Seed { get; init; }
    public int Width { get; init; } = 1600;
    public int Height { get; init; } = 1200;
    public int TrainCount { get; init; } = 10;
    public int TestGoodCount { get; init; } = 12;
    public int TestPerDefect { get; init; } = 6;
}
