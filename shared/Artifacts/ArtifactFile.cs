using System.Buffers;
using System.Security.Cryptography;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>An artifact that cannot be used; the message is meant for the user.</summary>
public sealed class ArtifactException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A loaded artifact whose checksum verified; <see cref="Signature"/> is checked by the caller's trusted keys.</summary>
public sealed record Artifact(ModelContent Content, string Id, int Version, long SizeBytes, byte[] Hash, ArtifactSignature? Signature);

/// <summary>
/// Reads and writes .pcb files. On disk: a MessagePack array
/// [format, version, payload (MessagePack of <see cref="ModelContent"/>), SHA-256 of payload, signature or nil],
/// the signature being [key id, algorithm, public key (SubjectPublicKeyInfo), ECDSA signature of the SHA-256].
/// Format and version come first so that any reader can refuse a newer file with a clear message.
/// Writes go to a temporary file in the same folder and are renamed into place.
/// </summary>
public static class ArtifactFile
{
    public const string Format = "edgepatchcore.artifact";
    public const int Version = 1;

    private static readonly MessagePackSerializerOptions Untrusted =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Writes <paramref name="content"/>, signed with <paramref name="signingKey"/> when given; returns the id.</summary>
    public static string Write(string path, ModelContent content, ECDsa? signingKey = null)
    {
        byte[] payload = MessagePackSerializer.Serialize(content, Untrusted);
        byte[] hash = SHA256.HashData(payload);
        WriteEnvelope(path, Version, payload, hash, signingKey is null ? null : SigningKeys.Sign(signingKey, hash));
        return IdOf(hash);
    }

    /// <summary>
    /// Signs an existing artifact in place (replacing any signature): the payload bytes are kept as
    /// they are, so the id does not change. The checksum is verified first: a damaged file is not signed.
    /// </summary>
    public static Artifact Sign(string path, ECDsa signingKey)
    {
        var bytes = ReadBytes(path);
        var (version, payload, hash, _) = ReadEnvelope(bytes, path);
        Read(bytes, path); // full validation: only sound artifacts get signed
        WriteEnvelope(path, version, payload, hash, SigningKeys.Sign(signingKey, hash));
        return Read(path);
    }

    internal static void WriteEnvelope(string path, int version, byte[] payload, byte[] hash, ArtifactSignature? signature)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(payload.Length + 512);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(5);
        writer.Write(Format);
        writer.Write(version);
        writer.Write(payload);
        writer.Write(hash);
        if (signature is null) writer.WriteNil();
        else
        {
            writer.WriteArrayHeader(4);
            writer.Write(signature.KeyId);
            writer.Write(signature.Algorithm);
            writer.Write(signature.PublicKey);
            writer.Write(signature.Signature);
        }
        writer.Flush();

        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(buffer.WrittenSpan);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    public static Artifact Read(string path) => Read(ReadBytes(path), path);

    private static byte[] ReadBytes(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new ArtifactException($"{path}: no such file"); }
        catch (DirectoryNotFoundException) { throw new ArtifactException($"{path}: no such file"); }
        catch (IOException e) { throw new ArtifactException($"{path}: cannot read ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new ArtifactException($"{path}: cannot read ({e.Message})", e); }
        return bytes;
    }

    public static Artifact Read(byte[] bytes, string name)
    {
        var (version, payload, hash, signature) = ReadEnvelope(bytes, name);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash))
            throw new ArtifactException($"{name}: checksum mismatch: the file was damaged or modified after it was written");

        ModelContent content;
        try { content = MessagePackSerializer.Deserialize<ModelContent>(payload, Untrusted); }
        catch (MessagePackSerializationException e)
        {
            throw new ArtifactException($"{name}: artifact payload cannot be decoded ({e.InnerException?.Message ?? e.Message})", e);
        }
        Validate(content, name);
        return new Artifact(content, IdOf(hash), version, bytes.LongLength, hash, signature);
    }

    private static (int Version, byte[] Payload, byte[] Hash, ArtifactSignature? Signature) ReadEnvelope(byte[] bytes, string name)
    {
        if (bytes.Length == 0) throw new ArtifactException($"{name}: empty file (0 bytes), not an artifact");
        string format;
        int version;
        byte[] payload, hash;
        ArtifactSignature? signature = null;
        try
        {
            var reader = new MessagePackReader(bytes);
            if (reader.NextMessagePackType != MessagePackType.Array) throw new ArtifactException($"{name}: not an EdgePatchCore artifact");
            int count = reader.ReadArrayHeader();
            if (count < 2) throw new ArtifactException($"{name}: not an EdgePatchCore artifact");
            format = reader.ReadString() ?? "";
            if (format != Format) throw new ArtifactException($"{name}: not an EdgePatchCore artifact (format '{Shorten(format)}')");
            version = reader.ReadInt32();
            if (version > Version)
                throw new ArtifactException($"{name}: artifact version {version} is newer than this program supports (version {Version}); update EdgePatchCore");
            if (version < 1 || count < 5) throw new ArtifactException($"{name}: artifact version {version} is not supported");
            payload = reader.ReadBytes() is { } p ? p.ToArray() : throw new ArtifactException($"{name}: artifact has no payload");
            hash = reader.ReadBytes() is { } h ? h.ToArray() : throw new ArtifactException($"{name}: artifact has no checksum");
            if (reader.TryReadNil()) { }
            else
            {
                if (reader.ReadArrayHeader() < 4) throw new ArtifactException($"{name}: damaged signature block");
                string keyId = reader.ReadString() ?? "", algorithm = reader.ReadString() ?? "";
                byte[] publicKey = reader.ReadBytes()?.ToArray() ?? [], sig = reader.ReadBytes()?.ToArray() ?? [];
                signature = new ArtifactSignature(keyId, algorithm, publicKey, sig);
            }
            for (int i = 5; i < count; i++) reader.Skip(); // fields of later minor versions
            if (!reader.End) throw new ArtifactException($"{name}: damaged artifact ({bytes.Length - reader.Consumed} unexpected bytes at the end)");
        }
        catch (ArtifactException) { throw; }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or OverflowException)
        {
            throw new ArtifactException($"{name}: truncated or damaged artifact ({e.Message})", e);
        }

        return (version, payload, hash, signature);
    }

    private static void Validate(ModelContent c, string name)
    {
        try
        {
            if (c.Backbone?.Onnx is not { Length: > 0 }) throw new ArtifactException("no backbone graph");
            if (c.Input is null || c.Input.Width is < 8 or > 8192 || c.Input.Height is < 8 or > 8192)
                throw new ArtifactException("input size out of range");
            if (c.Embedding is null || c.Bank is null || c.Scoring is null || c.Manifest is null)
                throw new ArtifactException("a section is missing");
            c.Bank.Validate();
            if (c.Bank.Columns != c.Embedding.Dimensions || c.Backbone.Dimensions != c.Embedding.Dimensions)
                throw new ArtifactException($"bank has {c.Bank.Columns} columns but the embedding has {c.Embedding.Dimensions} dimensions");
            if (c.Scoring.NeighbourCount > c.Bank.NeighbourCount)
                throw new ArtifactException($"scoring uses b = {c.Scoring.NeighbourCount} but the table has {c.Bank.NeighbourCount}");
        }
        catch (ArtifactException e) { throw new ArtifactException($"{name}: inconsistent artifact: {e.Message}", e); }
    }

    /// <summary>The artifact id: the first 12 hex digits of the payload's SHA-256.</summary>
    public static string IdOf(byte[] hash) => Convert.ToHexString(hash, 0, 6).ToLowerInvariant();

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "..." : s;
}
