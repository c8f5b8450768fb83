using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Scoring;

/// <summary>Scores files with the exhaustive and the bounded search at one precision and asserts the same verdicts and scores.</summary>
public static class BoundedSearchComparison
{
    public sealed record Result(int Frames, SearchWork Work);

    public static Result Run(Artifact artifact, IReadOnlyList<string> files, BankPrecision precision)
    {
        var device = new ExecutionDevice(DeviceKind.Cpu);
        using var exhaustive = new PatchCoreScorer(artifact.Content, device, precision, PatchSearchKind.Exhaustive);
        using var bounded = new PatchCoreScorer(artifact.Content, device, precision, PatchSearchKind.Bounded);
        Assert.Equal(PatchSearchKind.Bounded, bounded.SearchKind);
        var loader = new ImageLoader();
        var want = exhaustive.ScoreFiles(files, loader, 8, (_, r) => Assert.Fail(r)).ToList();
        bounded.TakeSearchWork();
        var got = bounded.ScoreFiles(files, loader, 8, (_, r) => Assert.Fail(r)).ToList();
        var work = bounded.TakeSearchWork();
        float threshold = artifact.Content.Scoring.Threshold;
        Assert.Equal(want.Count, got.Count);
        for (int i = 0; i < want.Count; i++)
        {
            var (e, b) = (want[i].Score, got[i].Score);
            string name = files[want[i].Index];
            Assert.True(Judge.Of(e.Score, threshold) == Judge.Of(b.Score, threshold), $"{name}: {e.Score} vs {b.Score}, threshold {threshold}");
            Assert.True(Math.Abs(e.Score - b.Score) <= 1e-5 * Math.Abs(e.Score), $"{name} ({precision}): score {e.Score} vs {b.Score}");
            Assert.True(Math.Abs(e.MaxPatchScore - b.MaxPatchScore) <= 1e-5 * e.MaxPatchScore, $"{name}: s* {e.MaxPatchScore} vs {b.MaxPatchScore}");
            Assert.True(e.MaxPatchIndex == b.MaxPatchIndex, $"{name}: s* patch {e.MaxPatchIndex} vs {b.MaxPatchIndex}");
        }
        return new Result(got.Count, work);
    }
}
