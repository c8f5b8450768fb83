using System.Buffers;

namespace EdgePatchCore.Artifacts;

/// <summary>How a signature's release statement is filled in: the version (default: the signing time) and how long it stays valid.</summary>
public sealed record ReleaseOptions
{
    public static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);
    /// <summary>Release version; must increase per product. Null: the signing time as yyyyMMddHHmmss.</summary>
    public long? Version { get; init; }
    public TimeSpan ValidFor { get; init; } = DefaultValidity;

    public ReleaseStatement For(string product, byte[] payloadHash, DateTime nowUtc)
    {
        var now = DateTime.SpecifyKind(nowUtc.AddTicks(-(nowUtc.Ticks % TimeSpan.TicksPerSecond)), DateTimeKind.Utc);
        return new ReleaseStatement(product, Version ?? ReleaseStatement.VersionFromTime(now), now, now + ValidFor, payloadHash);
    }
}
