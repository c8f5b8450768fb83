namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// What an operator's mark asks (the authenticated body of a {prefix}/teach message, docs/TEACH.md): the frames to
/// teach as good, the device it is meant for, when it was issued and a nonce, so that it cannot be sent to another
/// line or sent again. <see cref="Operator"/> is the name the SCADA screen reports, vouched for by the SCADA's key.
/// </summary>
public sealed record TeachRequest(string[]? FrameIds, string? Label, string? Operator, string? Note, string? Product, string? RequestId,
                                  string? Device, DateTimeOffset? IssuedAt, string? Nonce);
