using System.Buffers;
using System.Security.Cryptography;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>An artifact that cannot be used; the message is meant for the user.</summary>
public sealed class ArtifactException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A loaded, verified artifact.</summary>
public sealed record Artifact(ModelContent Content, string Id, int Version, long SizeBytes);

/// <summary>
/// Reads and writes .pcb files. On disk: a MessagePack array
/// [format, version, payload (MessagePack of <see cref="ModelContent"/>), SHA-256 of payload, signature or nil].
/// Format and version come first so that any reader can refuse a newer file with a clear message.
/// Writes go to a temporary file in the same folder and are renamed into place.
/// </summary>
public static class ArtifactFile
{
    public const string Format = "edgepatchcore.artifact";
    public const int Version = 1;

    private static readonly MessagePackSerializerOptions Untrusted =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    public static string Write(string path, ModelContent content)
    {
        byte[] payload = MessagePackSerializer.Serialize(content, Untrusted);
        byte[] hash = SHA256.HashData(payload);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(payload.Length + 256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(5);
        writer.Write(Format);
        writer.Write(Version);
        writer.Write(payload);
        writer.Write(hash);
        writer.WriteNil(); // signature slot
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
        return IdOf(hash);
    }

    public static Artifact Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new ArtifactException($"{path}: no such file"); }
        catch (DirectoryNotFoundException) { throw new ArtifactException($"{path}: no such file"); }
        catch (IOException e) { throw new ArtifactException($"{path}: cannot read ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new ArtifactException($"{path}: cannot read ({e.Message})", e); }
        return Read(bytes, path);
    }

    public static Artifact Read(byte[] bytes, string name)
    {
        if (bytes.Length == 0) throw new ArtifactException($"{name}: empty file (0 bytes), not an artifact");
        string format;
        int version;
        byte[] payload, hash;
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
            for (int i = 4; i < count; i++) reader.Skip(); // signature slot (and fields of later minor versions)
            if (!reader.End) throw new ArtifactException($"{name}: damaged artifact ({bytes.Length - reader.Consumed} unexpected bytes at the end)");
        }
        catch (ArtifactException) { throw; }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or OverflowException)
        {
            throw new ArtifactException($"{name}: truncated or damaged artifact ({e.Message})", e);
        }

        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash))
            throw new ArtifactException($"{name}: checksum mismatch: the file was damaged or modified after it was written");

        ModelContent content;
        try { content = MessagePackSerializer.Deserialize<ModelContent>(payload, Untrusted); }
        catch (MessagePackSerializationException e)
        {
            throw new ArtifactException($"{name}: artifact payload cannot be decoded ({e.InnerException?.Message ?? e.Message})", e);
        }
        Validate(content, name);
        return new Artifact(content, IdOf(hash), version, bytes.LongLength);
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
