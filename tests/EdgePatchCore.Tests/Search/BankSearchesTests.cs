using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Search;

/// <summary>The one place that picks a search path: each precision and device choice gets its own type.</summary>
public class BankSearchesTests
{
    private static readonly float[] Bank = Enumerable.Range(0, 64 * 8).Select(i => (i * 37 % 101) / 100f).ToArray();

    [Theory]
    [InlineData(BankPrecision.Float32, null, typeof(Float32Search))]
    [InlineData(BankPrecision.Float16, null, typeof(Float16Search))]
    [InlineData(BankPrecision.Int8, null, typeof(Int8HostSearch))]     // the CPU: dots in the graph, candidates in managed code
    [InlineData(BankPrecision.Int8, false, typeof(Int8HostSearch))]
    [InlineData(BankPrecision.Int8, true, typeof(Int8DeviceSearch))]   // as on CUDA: the whole selection in the graph
    public void Each_precision_and_device_path_is_its_own_type(BankPrecision precision, bool? selectionInGraph, Type expected)
    {
        using var search = BankSearches.Create(Bank, 64, 8, new ExecutionDevice(DeviceKind.Cpu), precision, new SearchTuning(Int8SelectionInGraph: selectionInGraph));
        Assert.IsType(expected, search);
        Assert.Equal(precision, search.Precision);
    }

    [Fact]
    public void Auto_resolves_for_the_device_before_the_path_is_chosen()
    {
        var device = new ExecutionDevice(DeviceKind.Cpu);
        using var search = BankSearches.Create(Bank, 64, 8, device, BankPrecision.Auto);
        var (resolved, _) = BankPrecisions.Resolve(BankPrecision.Auto, device);
        Assert.NotEqual(BankPrecision.Auto, search.Precision);
        Assert.Equal(resolved, search.Precision);
    }

    [Fact]
    public void Every_path_finds_an_exact_bank_row_at_distance_zero()
    {
        foreach (var precision in new[] { BankPrecision.Float32, BankPrecision.Float16, BankPrecision.Int8 })
            foreach (bool inGraph in new[] { false, true })
            {
                using var search = BankSearches.Create(Bank, 64, 8, new ExecutionDevice(DeviceKind.Cpu), precision, new SearchTuning(Int8SelectionInGraph: inGraph));
                var distances = new float[3];
                var indices = new int[3];
                search.Search(Bank.AsSpan(17 * 8, 3 * 8), 3, 1, distances, indices);
                Assert.Equal([17, 18, 19], indices);
                Assert.All(distances, d => Assert.True(d < 1e-3, $"{search.GetType().Name}: {d}"));
            }
    }
}
