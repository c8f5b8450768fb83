namespace EdgePatchCore.Deployment;

/// <summary>
/// The agent's answers. <see cref="Missing"/> lists at most <see cref="DeployProtocol.MaxMissingListed"/>
/// chunk indices; <see cref="MissingCount"/> says how many are missing in all.
/// </summary>
public sealed record DeployStatus(string TransferId, string State, int[]? Missing = null, string? Model = null, string? Reason = null,
                                  int? MissingCount = null, long? ReleaseVersion = null);
