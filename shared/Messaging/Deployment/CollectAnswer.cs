namespace EdgePatchCore.Deployment;

/// <summary>The answer to "list", "clear" or "revert" (or an error, with <see cref="Message"/>), naming who answers and which request.</summary>
public sealed record CollectAnswer(string Type, string DeviceId, IReadOnlyList<CollectEntry> Entries, string? Message = null,
                                   string? Prefix = null, string? RequestNonce = null);
