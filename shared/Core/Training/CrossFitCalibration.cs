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
/// the shipped model scores a frame (s* and m* by the bounded search, which finds the exhaustive search's, and Eq. 7 on
/// the most anomalous patch).
/// The pooled out-of-fold scores are scores of good images that their bank has not seen, as on the line.
/// </summary>
public sealed class CrossFitCalibration(IProgress<StageProgress>? progress = null)
{
    /// <summary>Query rows per kNN call: 8 images x 784 patches keep the int8 kernel busy and memory small (a tiled image of more rows goes
    /// alone).</summary>
    private const int RowsPerCall = 8 * 784;
    /// <summary>k-means iterations of a fold bank's cells: they only steer how much the bounded search reads.</summary>
    private const int CellIterations = 4;

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
            HeapRelease.Now(); // each fold leaves its greedy pass's copy of the points outside it (pinned blocks) behind
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
        var floors = Enumerable.Repeat(float.NegativeInfinity, imagesPerCall).ToArray();
        var best = new MaxPatch[imagesPerCall];
        var neighbourDistances = new float[b];
        var neighbours = new int[b];
        var scratch = new float[b];
        int done = 0;
        foreach (var fold in folds)
        {
            var bank = spill.Gather(fold.BankRows);
            using var knn = BankSearches.Create(bank, fold.BankRows.Length, dims, device, BankPrecision.Auto);
            // s* and m* exactly, as the shipped model's bounded search finds them: one probe a patch, since no map is drawn here.
            var cells = BankCellIndex.Build(bank, fold.BankRows.Length, dims, device, iterations: CellIterations);
            using var search = new BoundedPatchSearch(knn, bank, cells, device, probes: 1);
            for (int start = 0; start < fold.Images.Length; start += imagesPerCall)
            {
                cancel.ThrowIfCancellationRequested();
                int count = Math.Min(imagesPerCall, fold.Images.Length - start), rows = count * patchesPerImage;
                for (int i = 0; i < count; i++)
                    spill.Read((long)fold.Images[start + i] * patchesPerImage, patches.AsSpan(i * patchesPerImage * dims, patchesPerImage * dims));
                search.Run(patches.AsSpan(0, rows * dims), count, patchesPerImage, distances, floors.AsSpan(0, count), best.AsSpan(0, count));
                for (int i = 0; i < count; i++)
                {
                    // s* and m* as PatchCoreScorer finds them; m*'s neighbours searched in this fold's bank.
                    var (arg, sStar, mStar) = (best[i].Index, best[i].Distance, best[i].Row);
                    float score = sStar;
                    if (b > 1)
                    {
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
