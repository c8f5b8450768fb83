namespace EdgePatchCore.Agent.Teach;

/// <summary>The answer to a teach request on {prefix}/teach/status (schema edgepatchcore.teach-status/1): what became of each frame id, or why the
/// whole request was refused.</summary>
public sealed record TeachStatus(string Schema, string? RequestId, IReadOnlyList<string> Accepted, IReadOnlyList<string> AlreadyTaught,
                                 IReadOnlyList<string> Unknown, IReadOnlyList<RefusedFrame> Refused, string? Error, int TeachSetSize,
                                     DateTimeOffset At,
                                 string? By = null);
