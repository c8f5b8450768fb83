using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgePatchCore.Artifacts;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Training;

/// <summary>The extended model and what the extension did.</summary>
public sealed record ExtendResult(ModelContent Content, int AddedImages, long AddedPatches, int PatchesBeyondRadius, int AddedRows,
                                  bool BudgetReached, int NeighbourListsChanged, IReadOnlyList<SkippedFile> Skipped, string Device);
