using EdgePatchCore.Coreset;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Scoring;
using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Search;
using EdgePatchCore.Artifacts;

namespace EdgePatchCore.Training;

/// <summary>
/// Threshold scores for a bank that holds every training image: k folds of images, each scored against a bank
/// built without it (<see cref="FoldBanks"/>) from the features already extracted (the spill file), exactly as
/// the shipped model scores a frame (nearest-neighbour distance of every patch, Eq. 7 on the most anomalous one).
/// The pooled out-of-fold scores are scores of good images that their bank has not seen, as on the line.
/// </summary>
public sealed class CrossFitCalibration(IProgress<StageProgress>? progress = null)
{
    /// <summary>Query rows per kNN call: 8 images x 784 patches keep the int8 kernel busy and memory small (a tiled image of more rows goes
    /// alone).</summary>
    private const int RowsPerCall = 8 * 784;

    /// <summary>Chooses every fold's bank rows (on the projections, which must still be in memory).</summary>
    /// <param name="rows">projected patches, N = images x patchesPerImage, d</param>
    public IReadOnlyList<Fold> SelectFolds(QuantizedRows rows, int patchesPerImage, CoresetResult selection, int folds, int seed,
        CancellationToken cancel)
    {
        var assignment = FoldBanks.Assign(rows.Count / patchesPerImage, folds, seed);
        var result = new List<Fold>();
        foreach (var images in assignment)
        {
            var fold = FoldBanks.Build(rows, patchesPerImage, selection, images, cancel);
            result.Add(fold);
            progress?.Report(new StageProgress("calibration banks", result.Count, assignment.Length,
                $"{fold.KeptRows} kept + {fold.AddedRows} added rows for {images.Length} images"));
        }
        return result;
    }

    /// <summary>Scores every fold's images against its bank; features come from <paramref name="spill"/> (D floats a row).</summary>
    public CrossFitResult Score(FeatureSpill spill, int patchesPerImage, int dims, IReadOnlyList<Fold> folds,
                                ScoringSpec spec, ExecutionDevice device, CancellationToken cancel)
    {
        int imageCount = folds.Sum(f => f.Images.Length);
        int imagesPerCall = Math.Max(1, RowsPerCall / patchesPerImage);
        var scores = new float[imageCount];
        int b = ImageScoreReweighting.NeighbourCount(spec, folds.Min(f => f.BankRows.Length));
        var patches = new float[imagesPerCall * patchesPerImage * dims];
        var distances = new float[imagesPerCall * patchesPerImage];
        var nearest = new int[imagesPerCall * patchesPerImage];
        var neighbourDistances = new float[b];
        var neighbours = new int[b];
        var scratch = new float[b];
        int done = 0;
        foreach (var fold in folds)
        {
            var bank = spill.Gather(fold.BankRows);
            using var knn = BankSearches.Create(bank, fold.BankRows.Length, dims, device, BankPrecision.Auto);
            for (int start = 0; start < fold.Images.Length; start += imagesPerCall)
            {
                cancel.ThrowIfCancellationRequested();
                int count = Math.Min(imagesPerCall, fold.Images.Length - start), rows = count * patchesPerImage;
                for (int i = 0; i < count; i++)
                    spill.Read((long)fold.Images[start + i] * patchesPerImage, patches.AsSpan(i * patchesPerImage * dims, patchesPerImage * dims));
                knn.Search(patches.AsSpan(0, rows * dims), rows, 1, distances, nearest);
                for (int i = 0; i < count; i++)
                {
                    // s* and m* as PatchCoreScorer finds them; m*'s neighbours searched in this fold's bank.
                    var s = distances.AsSpan(i * patchesPerImage, patchesPerImage);
                    int arg = ImageScoreReweighting.ArgMax(s);
                    float sStar = s[arg];
                    float score = sStar;
                    if (b > 1)
                    {
                        int mStar = nearest[i * patchesPerImage + arg];
                        knn.Search(bank.AsSpan(mStar * dims, dims), 1, b, neighbourDistances, neighbours);
                        ImageScoreReweighting.SelfFirst(neighbours, mStar);
                        score = ImageScoreReweighting.Score(sStar, patches.AsSpan((i * patchesPerImage + arg) * dims, dims), neighbours, knn,
                            scratch);
                    }
                    scores[fold.Images[start + i]] = score;
                }
                done += count;
                progress?.Report(new StageProgress("calibration", done, imageCount, "out-of-fold scores"));
            }
        }
        return new CrossFitResult(scores, folds);
    }
}
