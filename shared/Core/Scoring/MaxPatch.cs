namespace EdgePatchCore.Scoring;

/// <summary>
/// The patch an image's score comes from: its index among the patches searched, s* (its exact nearest-neighbour
/// distance) and m* (the bank row at that distance). <see cref="None"/> when no patch beat the floor it was given.
/// </summary>
public readonly record struct MaxPatch(int Index, float Distance, int Row)
{
    public static MaxPatch None => new(-1, float.NegativeInfinity, -1);
    public bool Found => Index >= 0;
}
