using System.Globalization;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// What a signature on an artifact vouches for (the "targets" metadata of TUF, cut to one key per plant):
/// this payload (its SHA-256), for this product, as this release version, until this time. An agent keeps
/// the highest version it accepted per product and refuses older ones, so an old signed artifact cannot be
/// replayed; it refuses expired releases, so a captured one cannot be held back and used much later; and
/// it refuses a release for another product, so a model signed for one line cannot be sent to another.
/// Encoded as a MessagePack array; the signature covers the SHA-256 of exactly these bytes.
/// </summary>
public sealed record ReleaseStatement(string Product, long Version, DateTime IssuedAtUtc, DateTime ExpiresAtUtc, byte[] PayloadSha256)
{
    public const string Schema = "edgepatchcore.release/1";

    /// <summary>Default release version: the signing time as yyyyMMddHHmmss, so a later signature carries a higher version.</summary>
    public static long VersionFromTime(DateTime utc) => long.Parse(utc.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
        CultureInfo.InvariantCulture);

    public bool IsExpired(DateTime nowUtc) => nowUtc >= ExpiresAtUtc;

    public byte[] Encode()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(6);
        writer.Write(Schema);
        writer.Write(Product);
        writer.Write(Version);
        writer.Write(new DateTimeOffset(IssuedAtUtc, TimeSpan.Zero).ToUnixTimeSeconds());
        writer.Write(new DateTimeOffset(ExpiresAtUtc, TimeSpan.Zero).ToUnixTimeSeconds());
        writer.Write(PayloadSha256);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a statement; throws <see cref="ArtifactException"/> when it is not one.</summary>
    public static ReleaseStatement Decode(byte[] bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            if (reader.ReadArrayHeader() < 6 || reader.ReadString() != Schema) throw new ArtifactException("not a release statement");
            string product = reader.ReadString() ?? throw new ArtifactException("release statement without a product");
            long version = reader.ReadInt64();
            var issued = DateTimeOffset.FromUnixTimeSeconds(reader.ReadInt64()).UtcDateTime;
            var expires = DateTimeOffset.FromUnixTimeSeconds(reader.ReadInt64()).UtcDateTime;
            var hash = reader.ReadBytes() is { } h ? System.Buffers.BuffersExtensions.ToArray(h) : throw new ArtifactException("release statement " +
                "without a payload hash");
            if (hash.Length != 32) throw new ArtifactException("release statement with a malformed payload hash");
            return new ReleaseStatement(product, version, issued, expires, hash);
        }
        catch (ArtifactException) { throw; }
        catch (Exception e) // a crafted statement: any decoding failure is a refusal
        {
            throw new ArtifactException($"damaged release statement ({e.Message})", e);
        }
    }

    public override string ToString() =>
        $"product {Product}, version {Version}, issued {IssuedAtUtc:yyyy-MM-dd HH:mm} UTC, expires {ExpiresAtUtc:yyyy-MM-dd HH:mm} UTC";
}
