using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Tests.Scoring;

public class ReweightingTests
{
    [Fact]
    public void Eq7_weight_hand_computed()
    {
        // d = [2, 1, 3]: softmax_0 = e^2 / (e^2 + e^1 + e^3) = 7.389056 / (7.389056 + 2.718282 + 20.085537) = 0.244728
        // weight = 1 - 0.244728 = 0.755272
        Assert.Equal(0.755272, ImageScoreReweighting.Weight([2f, 1f, 3f]), 5);
    }

    [Fact]
    public void Eq7_equal_distances_give_one_minus_one_over_b()
    {
        Assert.Equal(1 - 1.0 / 9, ImageScoreReweighting.Weight(Enumerable.Repeat(5f, 9).ToArray()), 6);
        Assert.Equal(0.0, ImageScoreReweighting.Weight([3f]), 6); // b = 1: softmax of one value is 1
    }

    [Fact]
    public void Eq7_is_stable_for_large_distances()
    {
        float w = ImageScoreReweighting.Weight([500f, 400f, 600f]);
        Assert.True(float.IsFinite(w));
        Assert.Equal(1.0, w, 5); // exp(600) dominates: m*'s own softmax share is ~0
    }

    [Fact]
    public void Bilinear_upsample_matches_half_pixel_convention()
    {
        // 2 -> 4 with half-pixel centres (PyTorch align_corners=False): [1, 3] -> [1, 1.5, 2.5, 3].
        var dst = new float[4];
        Resampling.ResizeBilinear([1f, 3f], 2, 1, dst, 4, 1);
        Assert.Equal([1f, 1.5f, 2.5f, 3f], dst);
    }

    [Fact]
    public void Gaussian_blur_preserves_a_constant_and_spreads_a_peak()
    {
        var kernel = Resampling.GaussianKernel(4);
        Assert.Equal(1.0, kernel.Sum(), 5);
        Assert.Equal(33, kernel.Length); // radius ceil(4 sigma) = 16
        var flat = Enumerable.Repeat(2f, 40 * 40).ToArray();
        Resampling.GaussianBlur(flat, 40, 40, kernel, new float[1600]);
        Assert.All(flat, v => Assert.Equal(2f, v, 4));
        var peak = new float[40 * 40];
        peak[20 * 40 + 20] = 1;
        Resampling.GaussianBlur(peak, 40, 40, kernel, new float[1600]);
        Assert.Equal(kernel[16] * kernel[16], peak[20 * 40 + 20], 6);
        Assert.Equal(1.0, peak.Sum(), 3);
    }

    [Fact]
    public void A_megapixel_blur_in_bands_equals_one_band()
    {
        var kernel = Resampling.GaussianKernel(4);
        var rng = new Random(2);
        int w = 1000, h = 700;
        var image = Enumerable.Range(0, w * h).Select(_ => (float)rng.NextDouble()).ToArray();
        var one = (float[])image.Clone();
        Resampling.GaussianBlur(one, w, h, kernel, new float[w * h], bands: 1);
        foreach (int bands in new[] { 2, 3, 7 })
        {
            var banded = (float[])image.Clone();
            Resampling.GaussianBlur(banded, w, h, kernel, new float[w * h], bands);
            Assert.Equal(one, banded);
        }
        Resampling.GaussianBlur(image, w, h, kernel, new float[w * h]); // the default: every core at this size
        Assert.Equal(one, image);
    }

    [Fact]
    public void A_megapixel_resize_in_bands_equals_one_band()
    {
        var rng = new Random(3);
        var grid = Enumerable.Range(0, 28 * 28).Select(_ => (float)rng.NextDouble()).ToArray();
        int w = 1600, h = 1200;
        var one = new float[w * h];
        Resampling.ResizeBilinear(grid, 28, 28, one, w, h, bands: 1);
        Assert.Equal(grid[0], one[0]); // the half-pixel rule clamps the corner to the first cell
        foreach (int bands in new[] { 2, 3, 7 })
        {
            var banded = new float[w * h];
            Resampling.ResizeBilinear(grid, 28, 28, banded, w, h, bands);
            Assert.Equal(one, banded);
        }
        var byDefault = new float[w * h];
        Resampling.ResizeBilinear(grid, 28, 28, byDefault, w, h); // every core at this size
        Assert.Equal(one, byDefault);
    }
}
