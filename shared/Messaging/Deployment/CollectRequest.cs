namespace EdgePatchCore.Deployment;

/// <summary>
/// A collect request (the statement the plant key signs): list the teach set (taught since <see cref="Since"/>), get
/// one file's chunks from <see cref="From"/>, clear <see cref="Files"/>, or revert <see cref="Product"/>'s derived
/// model. <see cref="Device"/> is the device's topic prefix; the request is valid from <see cref="IssuedAt"/> to
/// <see cref="ExpiresAt"/>, and its <see cref="Nonce"/> once.
/// </summary>
public sealed record CollectRequest(string Type, string CollectId, DateTimeOffset? Since = null, string? File = null, int From = 0,
    int ChunkSize = 256 << 10,
                                    IReadOnlyList<string>? Files = null, string? Product = null, string? Device = null,
                                    DateTimeOffset? IssuedAt = null, DateTimeOffset? ExpiresAt = null, string? Nonce = null)
{
    public string Schema { get; init; } = CollectProtocol.SchemaName;
}
