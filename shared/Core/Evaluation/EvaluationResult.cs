using System.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Evaluation;

/// <summary>
/// The report, every scored image, the PRO curve (FPR, PRO) up to FPR 0.3 with the first mask protocol, and where the
/// maps and masks lie (<see cref="PatchCoreScorer.MapGeometry"/>: the input spec, or a tiled model's scaled frame).
/// </summary>
public sealed record EvaluationResult(EvaluationReport Report, IReadOnlyList<EvaluatedImage> Images, IReadOnlyList<(double Fpr, double Pro)> ProCurve,
                                      InputSpec MapGeometry);
