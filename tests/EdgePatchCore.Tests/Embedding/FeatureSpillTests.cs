using EdgePatchCore.Training;
using EdgePatchCore.Embedding;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Tests.Embedding;

public class FeatureSpillTests
{
    [Fact]
    public void Rows_come_back_in_the_requested_order()
    {
        using var dir = new TempFolder();
        using var spill = new FeatureSpill(dir.Path, 3);
        spill.Append([0, 1, 2, 10, 11, 12]);
        spill.Append([20, 21, 22]);
        Assert.Equal(3, spill.Rows);
        Assert.Equal([20f, 21, 22, 0, 1, 2], spill.Gather([2, 0]));
    }

    [Fact]
    public void The_file_is_gone_while_in_use_and_after_dispose()
    {
        using var dir = new TempFolder();
        using (var spill = new FeatureSpill(dir.Path, 2))
        {
            spill.Append([1, 2]);
            // Unlinked at creation: nothing to leave behind even if the process is killed.
            Assert.Empty(Directory.GetFiles(dir.Path));
            Assert.Equal([1f, 2], spill.Gather([0]));
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void A_failed_or_cancelled_build_leaves_no_temporary_file()
    {
        using var dir = new TempFolder();
        using var data = new TempFolder();
        // One readable image and one corrupt one under --strict: the build fails after the spill file exists.
        new EdgePatchCore.Synthetic.GasketGenerator(new() { TrainCount = 3, TestGoodCount = 0, TestPerDefect = 0 }).Write(data.Path);
        File.WriteAllText(Path.Combine(data.Path, "train", "good", "0001.png"), "corrupt");
        var options = new BuildOptions
        {
            Product = "p", DataDirectory = data.Path, TempDirectory = dir.Path, Strict = true,
            Device = EdgePatchCore.Devices.DeviceKind.Cpu, BatchSize = 1,
        };
        Assert.Throws<BuildException>(() => new ModelBuilder(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Build(options));
        Assert.Empty(Directory.GetFiles(dir.Path));

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new ModelBuilder(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Build(options with { Strict = false }, cancel.Token));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
