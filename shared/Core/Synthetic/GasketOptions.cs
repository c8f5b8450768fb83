using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Synthetic;

public sealed record GasketOptions
{
    public int Seed { get; init; }
    public int Size { get; init; } = 256;
    public int TrainCount { get; init; } = 200;
    public int TestGoodCount { get; init; } = 40;
    public int TestPerDefect { get; init; } = 12;
    /// <summary>The lamp: each image's light gain is drawn from [GainMin, GainMin + GainRange) (a brighter or dimmer lamp is a nominal
    /// drift).</summary>
    public float GainMin { get; init; } = 0.85f;
    public float GainRange { get; init; } = 0.3f;
    /// <summary>The conveyor belt's colour (R, G, B before lighting); a new belt is a nominal drift.</summary>
    public (float R, float G, float B) Belt { get; init; } = (140, 146, 156);
}
