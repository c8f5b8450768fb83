namespace EdgePatchCore.Evaluation;

public static class MaskProtocols
{
    public static byte MinimumLevel(MaskProtocol protocol) => protocol == MaskProtocol.FullyCovered ? (byte)255 : (byte)128;

    public static string Name(MaskProtocol protocol) => protocol == MaskProtocol.FullyCovered ? "official" : "ours";

    /// <summary>ours | official | both (ours first).</summary>
    public static MaskProtocol[] Parse(string text) => text.ToLowerInvariant() switch
    {
        "ours" => [MaskProtocol.HalfCovered],
        "official" => [MaskProtocol.FullyCovered],
        "both" => [MaskProtocol.HalfCovered, MaskProtocol.FullyCovered],
        _ => throw new ArgumentException($"expected ours, official or both, not '{text}'"),
    };
}
