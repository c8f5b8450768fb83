using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// A camera's raw pixels into the backbone's RGB, straight from the buffer (no encoded image on the way): Mono8 (grey to all
/// three channels), RGB8 (copied) and the four 8-bit Bayer layouts (bilinear demosaicing: a pixel's missing colours are the mean of
/// its 3 x 3 neighbours of that colour, borders clamped).
/// </summary>
public static class PixelConversion
{
    /// <summary>The formats this converter takes, by their GenICam names.</summary>
    public static readonly IReadOnlyDictionary<string, uint> Formats = new Dictionary<string, uint>
    {
        ["Mono8"] = AravisNative.Mono8, ["RGB8"] = AravisNative.Rgb8, ["BayerRG8"] = AravisNative.BayerRG8, ["BayerGR8"] = AravisNative.BayerGR8,
        ["BayerGB8"] = AravisNative.BayerGB8, ["BayerBG8"] = AravisNative.BayerBG8,
    };

    public static string? Name(uint format) => Formats.FirstOrDefault(f => f.Value == format).Key;

    /// <summary>Bytes a <paramref name="format"/> frame of <paramref name="width"/> x <paramref name="height"/> holds.</summary>
    public static long Bytes(uint format, int width, int height) => (long)width * height * (format == AravisNative.Rgb8 ? 3 : 1);

    /// <summary>
    /// <paramref name="pixels"/> (row-major, no padding: [height, width] bytes, or [height, width, 3] for RGB8) as a new RGB image
    /// (ImageSharp's pooled memory). Throws <see cref="CameraException"/> for a format it does not take or a buffer of the wrong size.
    /// </summary>
    public static Image<Rgb24> ToRgb(ReadOnlySpan<byte> pixels, int width, int height, uint format)
    {
        if (Name(format) is not { } name) throw new CameraException($"pixel format 0x{format:x8} is not supported (use Mono8, RGB8 or Bayer*8)");
        if (width <= 0 || height <= 0 || pixels.Length < Bytes(format, width, height))
            throw new CameraException($"a {name} frame of {width} x {height} needs {Bytes(format, width, height)} bytes; the buffer holds " +
                                      $"{pixels.Length}");
        var image = new Image<Rgb24>(width, height);
        try
        {
            byte[]? layout = format is AravisNative.Rgb8 or AravisNative.Mono8 ? null : Layout(format);
            for (int y = 0; y < height; y++)
            {
                var row = image.DangerousGetPixelRowMemory(y).Span;
                if (format == AravisNative.Rgb8)
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Rgb24>(pixels.Slice(y * width * 3, width * 3)).CopyTo(row);
                else if (layout is null)
                {
                    var grey = pixels.Slice(y * width, width);
                    for (int x = 0; x < width; x++) row[x] = new Rgb24(grey[x], grey[x], grey[x]);
                }
                else Demosaic(pixels, width, height, y, layout, row);
            }
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The colour (0 R, 1 G, 2 B) of the 2 x 2 cell's four sites, row by row.</summary>
    private static byte[] Layout(uint format) => format switch
    {
        AravisNative.BayerRG8 => [0, 1, 1, 2],
        AravisNative.BayerGR8 => [1, 0, 2, 1],
        AravisNative.BayerGB8 => [1, 2, 0, 1],
        _ => [2, 1, 1, 0], // BayerBG8
    };

    /// <summary>Row <paramref name="y"/> of a Bayer mosaic ([height, width] bytes) demosaiced into <paramref name="row"/>.</summary>
    private static void Demosaic(ReadOnlySpan<byte> mosaic, int width, int height, int y, byte[] layout, Span<Rgb24> row)
    {
        Span<int> sum = stackalloc int[3];
        Span<int> count = stackalloc int[3];
        for (int x = 0; x < width; x++)
        {
            sum.Clear();
            count.Clear();
            int own = layout[(y & 1) * 2 + (x & 1)];
            for (int dy = -1; dy <= 1; dy++)
            {
                int yy = Math.Clamp(y + dy, 0, height - 1);
                for (int dx = -1; dx <= 1; dx++)
                {
                    int xx = Math.Clamp(x + dx, 0, width - 1);
                    int colour = layout[(yy & 1) * 2 + (xx & 1)];
                    sum[colour] += mosaic[yy * width + xx];
                    count[colour]++;
                }
            }
            sum[own] = mosaic[y * width + x]; // a site keeps its own colour
            count[own] = 1;
            row[x] = new Rgb24((byte)((sum[0] + count[0] / 2) / count[0]), (byte)((sum[1] + count[1] / 2) / count[1]),
                               (byte)((sum[2] + count[2] / 2) / count[2]));
        }
    }
}
