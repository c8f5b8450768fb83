using System.Diagnostics;
using EdgePatchCore.Artifacts;

namespace EdgePatchCore.Training;

/// <summary>The extended model and what the extension did.</summary>
public sealed record ExtendResult(ModelContent Content, int AddedImages, long AddedPatches, int PatchesBeyondRadius, int AddedRows,
                                  bool BudgetReached, int NeighbourListsChanged, IReadOnlyList<SkippedFile> Skipped, string Device);
