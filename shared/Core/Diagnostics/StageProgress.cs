namespace EdgePatchCore.Diagnostics;

/// <summary>
/// How far a named stage of long work has got (reported through <see cref="IProgress{T}"/>): the trainer draws a
/// progress bar from it. <paramref name="Detail"/> is a short extra such as the coverage radius.
/// </summary>
public readonly record struct StageProgress(string Stage, long Done, long Total, string? Detail = null);
