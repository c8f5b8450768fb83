using EdgePatchCore.Coreset;

namespace EdgePatchCore.Training;

/// <summary>The out-of-fold score of every embedded training image (in embedding order) and the folds that gave them.</summary>
public sealed record CrossFitResult(float[] Scores, IReadOnlyList<Fold> Folds);
