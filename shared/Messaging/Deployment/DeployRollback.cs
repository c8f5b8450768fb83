namespace EdgePatchCore.Deployment;

/// <summary>
/// A rollback request: restore the artifact that was served before the last deployment. On an agent
/// with trusted keys it must carry an <see cref="Authorization"/> signed by one of them.
/// </summary>
public sealed record DeployRollback(string TransferId, string? Product = null, RollbackAuthorization? Authorization = null);
