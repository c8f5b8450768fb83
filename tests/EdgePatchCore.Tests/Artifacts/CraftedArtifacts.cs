using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EdgePatchCore.Artifacts;
using MessagePack;

namespace EdgePatchCore.Tests.Artifacts;

/// <summary>
/// Artifacts an attacker or a broken tool could produce, made from real ones in the test (nothing is
/// checked in): each passes the checksum, so only the reader's validation or the loader stands in the way.
/// </summary>
public static class CraftedArtifacts
{
    /// <summary>Writes <paramref name="content"/> with a correct checksum (no signature), bypassing nothing but the trainer.</summary>
    public static void WriteRaw(string path, ModelContent content)
    {
        var payload = MessagePackSerializer.Serialize(content);
        ArtifactFile.WriteEnvelope(path, 1, payload, SHA256.HashData(payload), null);
    }

    /// <summary>The same model relabelled for another product (a model "for another line").</summary>
    public static void ForProduct(string source, string output, string product)
    {
        var a = ArtifactFile.Read(source);
        ArtifactFile.Write(output, a.Content with { Manifest = a.Content.Manifest with { Product = product } });
    }

    /// <summary>
    /// A model whose sections all agree (bank, embedding and backbone say 512 dimensions) but whose backbone
    /// graph really produces 1024: it passes validation and fails only when it is built and warmed up.
    /// </summary>
    public static void WrongBackboneDimensions(string source, string output)
    {
        var c = ArtifactFile.Read(source).Content;
        int rows = c.Bank.Rows, columns = c.Bank.Columns, half = columns / 2;
        var bank = MemoryMarshal.Cast<byte, float>(c.Bank.Data);
        var cut = new float[rows * half];
        for (int r = 0; r < rows; r++) bank.Slice(r * columns, half).CopyTo(cut.AsSpan(r * half, half));
        ArtifactFile.Write(output, c with
        {
            Backbone = c.Backbone with { Dimensions = half },
            Embedding = c.Embedding with { Dimensions = half },
            Bank = c.Bank with { Columns = half, Data = MemoryMarshal.AsBytes(cut.AsSpan()).ToArray(), Cells = null }, // nor its cell index
            Selection = null, // a space for the full width would not match the cut bank
        });
    }
}
