using EdgePatchCore.Imaging;
using System.Buffers;
using System.Security.Cryptography;
using MessagePack;

namespace EdgePatchCore.Artifacts;

/// <summary>
/// Reads and writes .pcb files. On disk: a MessagePack array
/// [format, version, payload (MessagePack of <see cref="ModelContent"/>), SHA-256 of payload, signature or nil],
/// the signature being [key id, algorithm, public key (SubjectPublicKeyInfo), ECDSA signature, release statement]
/// (see <see cref="ArtifactSignature"/> and <see cref="ReleaseStatement"/>).
/// Format and version come first so that any reader can refuse a newer file with a clear message.
/// Writes go to a temporary file in the same folder and are renamed into place.
/// </summary>
public static class ArtifactFile
{
    public const string Format = "edgepatchcore.artifact";
    /// <summary>
    /// The newest envelope version this program reads and writes: 1 = signature over the payload's hash (or
    /// none), 2 = signature over a <see cref="ReleaseStatement"/> carried in the signature block. Unsigned
    /// files are still written as version 1; a reader that knows only version 1 refuses a version 2 file
    /// with "update EdgePatchCore" rather than misreading it.
    /// </summary>
    public const int Version = 2;

    private static readonly MessagePackSerializerOptions Untrusted =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Writes <paramref name="content"/>, signed with <paramref name="signingKey"/> when given; returns the id.</summary>
    public static string Write(string path, ModelContent content, ECDsa? signingKey = null, ReleaseOptions? release = null)
    {
        byte[] payload = MessagePackSerializer.Serialize(content, Untrusted);
        byte[] hash = SHA256.HashData(payload);
        var signature = signingKey is null ? null
            : SigningKeys.Sign(signingKey, (release ?? new ReleaseOptions()).For(content.Manifest.Product, hash, DateTime.UtcNow));
        WriteEnvelope(path, 1, payload, hash, signature);
        return IdOf(hash);
    }

    /// <summary>
    /// Signs an existing artifact in place (replacing any signature): the payload bytes are kept as
    /// they are, so the id does not change. The checksum is verified first: a damaged file is not signed.
    /// </summary>
    public static Artifact Sign(string path, ECDsa signingKey, ReleaseOptions? release = null)
    {
        var bytes = ReadBytes(path);
        var (version, payload, hash, _) = ReadEnvelope(bytes, path);
        var artifact = Read(bytes, path); // full validation: only sound artifacts get signed
        var statement = (release ?? new ReleaseOptions()).For(artifact.Content.Manifest.Product, hash, DateTime.UtcNow);
        WriteEnvelope(path, version, payload, hash, SigningKeys.Sign(signingKey, statement));
        return Read(path);
    }

    internal static void WriteEnvelope(string path, int version, byte[] payload, byte[] hash, ArtifactSignature? signature)
    {
        version = Math.Max(version, signature?.Statement is null ? 1 : 2);
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
            writer.WriteArrayHeader(signature.Statement is null ? 4 : 5);
            writer.Write(signature.KeyId);
            writer.Write(signature.Algorithm);
            writer.Write(signature.PublicKey);
            writer.Write(signature.Signature);
            if (signature.Statement is not null) writer.Write(signature.Statement);
        }
        writer.Flush();

        FileSystem.DurableFile.Write(path, buffer.WrittenMemory);
    }

    /// <summary>Largest artifact read: a .NET array holds at most 2 GiB, and the bank is one array.</summary>
    public const long MaxBytes = int.MaxValue - 1024;

    public static Artifact Read(string path, long maxBytes = MaxBytes) => Read(ReadBytes(path, maxBytes), path);

    private static byte[] ReadBytes(string path, long maxBytes = MaxBytes)
    {
        try { return FileSystem.RegularFile.Read(path, maxBytes); }
        catch (FileSystem.FileRefusedException e) { throw new ArtifactException(e.Message, e); }
        catch (IOException e) { throw new ArtifactException($"{path}: cannot read ({e.Message})", e); }
        catch (UnauthorizedAccessException e) { throw new ArtifactException($"{path}: cannot read ({e.Message})", e); }
    }

    public static Artifact Read(byte[] bytes, string name)
    {
        var (version, payload, hash, signature) = ReadEnvelope(bytes, name);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash))
            throw new ArtifactException($"{name}: checksum mismatch: the file was damaged or modified after it was written");

        ModelContent content;
        try { content = MessagePackSerializer.Deserialize<ModelContent>(payload, Untrusted); }
        catch (Exception e) // whatever a crafted payload makes the decoder throw, it is a refusal
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
                throw new ArtifactException($"{name}: artifact version {version} is newer than this program supports (version {Version}); update " +
                    $"EdgePatchCore");
            if (version < 1 || count < 5) throw new ArtifactException($"{name}: artifact version {version} is not supported");
            payload = reader.ReadBytes() is { } p ? p.ToArray() : throw new ArtifactException($"{name}: artifact has no payload");
            hash = reader.ReadBytes() is { } h ? h.ToArray() : throw new ArtifactException($"{name}: artifact has no checksum");
            if (reader.TryReadNil()) { }
            else
            {
                int fields = reader.ReadArrayHeader();
                if (fields < 4) throw new ArtifactException($"{name}: damaged signature block");
                string keyId = reader.ReadString() ?? "", algorithm = reader.ReadString() ?? "";
                byte[] publicKey = reader.ReadBytes()?.ToArray() ?? [], sig = reader.ReadBytes()?.ToArray() ?? [];
                byte[]? statement = fields >= 5 ? reader.ReadBytes()?.ToArray() : null;
                for (int i = 5; i < fields; i++) reader.Skip();
                signature = new ArtifactSignature(keyId, algorithm, publicKey, sig, statement);
            }
            for (int i = 5; i < count; i++) reader.Skip(); // fields of later minor versions
            if (!reader.End) throw new ArtifactException($"{name}: damaged artifact ({bytes.Length - reader.Consumed} unexpected bytes at the end)");
        }
        catch (ArtifactException) { throw; }
        catch (Exception e) // crafted headers (a length of 0xFFFFFFFF, wrong types, ...): any reader failure is "damaged"
        {
            throw new ArtifactException($"{name}: truncated or damaged artifact ({e.Message})", e);
        }

        return (version, payload, hash, signature);
    }

    /// <summary>Largest values accepted from a payload: far above any real model, far below what would exhaust memory.</summary>
    public const int MaxColumns = 65_536, MaxNeighbourCount = 1024, MaxLayers = 16, MaxTextLength = 256;

    /// <summary>
    /// Checks every section before anything is built from it: present, every count bounded and matching
    /// the bytes the payload holds, every index inside the bank, every number finite. A crafted or damaged
    /// payload is refused here, never by a crash later (a huge b would overflow a buffer sized by it).
    /// </summary>
    private static void Validate(ModelContent c, string name)
    {
        try
        {
            if (c.Manifest is null || c.Backbone is null || c.Input is null || c.Embedding is null || c.Bank is null || c.Scoring is null)
                throw new ArtifactException("a section is missing");
            var m = c.Manifest;
            if (string.IsNullOrWhiteSpace(m.Product) || m.Product.Length > MaxTextLength || m.Product.Any(char.IsControl))
                throw new ArtifactException("product name missing or malformed");
            if (m.TrainerVersion is null || m.DatasetFingerprint is null
                || m.BuildOptions is null) throw new ArtifactException("manifest field missing");
            var bb = c.Backbone;
            if (bb.Onnx is not { Length: > 0 }) throw new ArtifactException("no backbone graph");
            if (bb.Layers is null || bb.LayerChannels is null || bb.Layers.Length is < 1 or > MaxLayers
                || bb.LayerChannels.Length != bb.Layers.Length)
                throw new ArtifactException("backbone layers missing or inconsistent");
            if (string.IsNullOrEmpty(bb.InputName)
                || string.IsNullOrEmpty(bb.OutputName)) throw new ArtifactException("backbone input/output names missing");
            if (c.Input.Width is < 8 or > 8192 || c.Input.Height is < 8 or > 8192 || c.Input.ResizeTo is < 8 or > 16384
                || !Enum.IsDefined(c.Input.Mode))
                throw new ArtifactException("input size out of range");
            if (c.Tiling is { } tiling)
            {
                try { tiling.Validate(); }
                catch (ArgumentException x) { throw new ArtifactException(x.Message); }
                if (tiling.TileSize != c.Input.Width || tiling.TileSize != c.Input.Height || c.Input.Mode != ResizeMode.Stretch)
                    throw new ArtifactException($"tiles of {tiling.TileSize} pixels for a network input of {c.Input}");
            }
            var e = c.Embedding;
            if (e.Layers is null || e.Dimensions is < 1 or > MaxColumns || e.GridWidth < 1 || e.GridHeight < 1
                || e.GridWidth > c.Input.Width || e.GridHeight > c.Input.Height || e.PatchSize is < 1 or > 15)
                throw new ArtifactException("embedding sizes out of range");
            var bank = c.Bank;
            if (bank.Columns is < 1 or > MaxColumns) throw new ArtifactException($"bank has {bank.Columns} columns");
            c.Selection?.Validate(bank.Columns);
            if (bank.Data is null || bank.Neighbours is null) throw new ArtifactException("bank data missing");
            bank.Validate();
            if (bank.Columns != e.Dimensions || bb.Dimensions != e.Dimensions)
                throw new ArtifactException($"bank has {bank.Columns} columns but the embedding has {e.Dimensions} dimensions");
            var s = c.Scoring;
            if (s.K is < 1 or > MaxNeighbourCount) throw new ArtifactException($"k = {s.K} is out of range");
            if (s.NeighbourCount < 1 || s.NeighbourCount > bank.NeighbourCount)
                throw new ArtifactException($"scoring uses b = {s.NeighbourCount} but the table has {bank.NeighbourCount}");
            if (!float.IsFinite(s.BlurSigma) || s.BlurSigma is < 0 or > 64) throw new ArtifactException($"blur sigma {s.BlurSigma} is out of range");
            if (!float.IsFinite(s.Threshold) || s.Threshold <= 0)
                throw new ArtifactException($"threshold {s.Threshold} is not a positive number (a NaN threshold would pass every part)");
            if (c.Calibration is { } cal && (cal.SortedScores is null || cal.SortedScores.Length > 10_000_000))
                throw new ArtifactException("calibration summary malformed");
            if (bb.Ranges is { } r && (r.Tensors is null || r.Min?.Length != r.Tensors.Length || r.Max?.Length != r.Tensors.Length))
                throw new ArtifactException("int8 activation ranges malformed");
            if (c.WholeFrame is { } whole)
            {
                if (c.Tiling is null) throw new ArtifactException("a whole-frame scale in a model without tiles");
                if (whole.Bank is null) throw new ArtifactException("whole-frame scale incomplete");
                whole.Bank.Validate();
                if (whole.Bank.Columns != e.Dimensions) throw new ArtifactException("the whole-frame scale's bank does not match the embedding");
                if (s.NeighbourCount > whole.Bank.NeighbourCount)
                    throw new ArtifactException($"scoring uses b = {s.NeighbourCount} but the whole-frame table has {whole.Bank.NeighbourCount}");
                if (!float.IsFinite(whole.Threshold) || whole.Threshold <= 0 || !float.IsFinite(whole.TilesThreshold) || whole.TilesThreshold <= 0)
                    throw new ArtifactException("the whole-frame scale's thresholds are not positive numbers");
            }
        }
        catch (ArtifactException e) { throw new ArtifactException($"{name}: inconsistent artifact: {e.Message}", e); }
    }

    /// <summary>The artifact id: the first 12 hex digits of the payload's SHA-256.</summary>
    public static string IdOf(byte[] hash) => Convert.ToHexString(hash, 0, 6).ToLowerInvariant();

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "..." : s;
}
