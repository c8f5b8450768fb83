using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Tests.Imaging;

/// <summary>The whole view's line-profile flattening (docs/TILING.md, "Flattening a brushed surface").</summary>
public class ProfileFlattenerTests
{
    private const int W = 64, H = 48;

    /// <summary>A grey sheet (150) between two dark edges (40, rows 0-5 and 42-47), with <paramref name="paint"/> added.</summary>
    private static Image<Rgb24> Sheet(Func<int, int, int> paint)
    {
        var image = new Image<Rgb24>(W, H);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                int v = (y < 6 || y >= 42 ? 40 : 150) + paint(x, y);
                image[x, y] = new Rgb24((byte)v, (byte)(v + 10), (byte)(v + 20));
            }
        return image;
    }

    private static void AssertSame(Image<Rgb24> expected, Image<Rgb24> actual)
    {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                Assert.True(expected[x, y] == actual[x, y], $"({x}, {y}): expected {expected[x, y]}, got {actual[x, y]}");
    }

    [Fact]
    public void A_band_along_the_rows_is_taken_out_and_the_edges_stay()
    {
        // A band of darker rows (4 rows, 12 levels deep) on the sheet, as brushing leaves, and one bright row.
        using var image = Sheet((x, y) => y is >= 20 and < 24 ? -12 : y == 30 ? 7 : 0);
        ProfileFlattener.Apply(image, ProfileFlattening.Rows);
        using var flat = Sheet((_, _) => 0);
        AssertSame(flat, image);
    }

    [Fact]
    public void A_blob_stays()
    {
        // A stain 12 pixels across (under half a row), 12 levels deep: each of its rows' median is still the sheet's.
        static int Stain(int x, int y) => (x - 30) * (x - 30) + (y - 24) * (y - 24) < 36 ? -12 : 0;
        using var image = Sheet(Stain);
        ProfileFlattener.Apply(image, ProfileFlattening.Rows);
        using var expected = Sheet(Stain);
        AssertSame(expected, image);
    }

    [Fact]
    public void Columns_flatten_the_transposed_profile_each_channel_on_its_own()
    {
        // A band of darker columns, deeper in blue than in red.
        using var image = new Image<Rgb24>(W, H);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
            {
                int d = x is >= 30 and < 33 ? 1 : 0;
                image[x, y] = new Rgb24((byte)(100 - 5 * d), (byte)(110 - 10 * d), (byte)(120 - 15 * d));
            }
        using var rowsOnly = image.Clone();
        ProfileFlattener.Apply(image, ProfileFlattening.Columns);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) Assert.Equal(new Rgb24(100, 110, 120), image[x, y]);

        // Rows leave a band of columns alone, and Off leaves everything.
        using var before = rowsOnly.Clone();
        ProfileFlattener.Apply(rowsOnly, ProfileFlattening.Rows);
        AssertSame(before, rowsOnly);
        ProfileFlattener.Apply(rowsOnly, ProfileFlattening.Off);
        AssertSame(before, rowsOnly);
    }

    [Fact]
    public void The_network_input_is_the_flattened_frame_resized_and_the_frame_is_left_as_it_is()
    {
        using var frame = Sheet((x, y) => y is >= 20 and < 24 ? -12 : 0);
        using var original = frame.Clone();
        var spec = new InputSpec { Width = 32, Height = 32, Mode = ResizeMode.Stretch };
        var input = new float[3 * 32 * 32];
        using var flattener = new ProfileFlattener(ProfileFlattening.Rows);
        flattener.ToInput(frame, spec, input);
        AssertSame(original, frame);
        using var flat = Sheet((_, _) => 0);
        var expected = new float[input.Length];
        ImageLoader.ToInput(flat, spec, expected);
        Assert.Equal(expected, input);
        // The next frame (the copy it flattens is reused): flattened on its own, nothing of the first left in it.
        using var next = Sheet((x, y) => y == 30 ? 9 : 0);
        flattener.ToInput(next, spec, input);
        Assert.Equal(expected, input);
        using var off = new ProfileFlattener(ProfileFlattening.Off);
        off.ToInput(frame, spec, input);
        ImageLoader.ToInput(frame, spec, expected);
        Assert.Equal(expected, input);
    }
}
