namespace EdgePatchCore.Imaging;

/// <summary>An axis-aligned pixel rectangle.</summary>
public readonly record struct PixelRegion(int X, int Y, int Width, int Height);
