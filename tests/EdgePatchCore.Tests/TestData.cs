using EdgePatchCore.Artifacts;
using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Tests;

/// <summary>Temporary folders and small artifacts for tests.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "epc-test-" + Guid.NewGuid().ToString("N")[..12]);
    public TempFolder() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

public static class TestData
{
    /// <summary>
    /// Puts a frame into a watched folder the way a careful uploader does: written under a hidden name, then
    /// renamed, so the agent (even with no settle time) never sees it half written.
    /// </summary>
    public static void Drop(string folder, string name, byte[] bytes)
    {
        string hidden = System.IO.Path.Combine(folder, "." + name);
        System.IO.File.WriteAllBytes(hidden, bytes);
        System.IO.File.Move(hidden, System.IO.Path.Combine(folder, name));
    }

    /// <summary>A file of this repository (found by walking up from the test binaries to EdgePatchCore.sln).</summary>
    public static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "EdgePatchCore.sln"))) return Path.Combine(dir.FullName, relative);
        throw new InvalidOperationException("repository root not found");
    }

    /// <summary><see cref="Drop(string, string, byte[])"/> with a copy of <paramref name="source"/>.</summary>
    public static void DropCopy(string folder, string name, string source) => Drop(folder, name, System.IO.File.ReadAllBytes(source));

    /// <summary>A PNG signature and IHDR chunk (valid CRC) claiming the given size, with no pixel data behind it.</summary>
    public static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; ihdr[13] = 2; // 8-bit RGB
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, .. ihdr, 0, 0, 0, 0];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(ihdr));
        return png;
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A small but complete artifact (random bank; a tiny made-up backbone blob) for format tests.</summary>
    public static ModelContent SmallContent(int rows = 50, int dims = 384, int b = 9)
    {
        var rng = new Random(1);
        var bank = Enumerable.Range(0, rows * dims).Select(_ => (float)rng.NextDouble()).ToArray();
        var neighbours = Enumerable.Range(0, rows * b).Select(i => (i / b + i % b) % rows).ToArray();
        return new ModelContent
        {
            Manifest = new Manifest
            {
                Product = "widget", CreatedAtUtc = new DateTime(2026, 11, 28, 12, 0, 0, DateTimeKind.Utc), TrainerVersion = "0.1.0",
                TrainingImageCount = 10, DatasetFingerprint = "sha256:0123", BuildOptions = new() { ["coreset"] = "0.1" },
            },
            Backbone = new PreparedBackbone { Onnx = [1, 2, 3, 4], Layers = ["a", "b"], LayerChannels = [128, 256], Dimensions = dims },
            Input = new InputSpec(),
            Embedding = new EmbeddingSpec { Layers = ["a", "b"], Dimensions = dims, GridWidth = 28, GridHeight = 28 },
            Bank = MemoryBank.FromFloats(bank, rows, dims, neighbours, b),
            Scoring = new ScoringSpec { Threshold = 3.5f },
        };
    }
}
