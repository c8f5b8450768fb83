using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Coreset;

namespace EdgePatchCore.Training;

/// <summary>
/// The model, what was skipped, the selection, the device, the cross-fitting folds (empty with a calibration
/// folder) and the time of each phase.
/// </summary>
public sealed record BuildResult(ModelContent Content, IReadOnlyList<SkippedFile> Skipped, CoresetResult Coreset, string Device,
                                 IReadOnlyList<Fold> Folds, IReadOnlyList<BuildPhase> Phases);
