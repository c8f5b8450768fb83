using EdgePatchCore.Artifacts;
using MessagePack;

namespace EdgePatchCore.Tests.Artifacts;

public class ArtifactFileTests
{
    [Fact]
    public void Round_trip_is_bit_exact()
    {
        using var dir = new TempFolder();
        var content = TestData.SmallContent();
        string id = ArtifactFile.Write(dir.File("a.pcb"), content);
        var read = ArtifactFile.Read(dir.File("a.pcb"));
        Assert.Equal(id, read.Id);
        Assert.Equal(1, read.Version); // unsigned: the envelope every reader of version 1 reads
        Assert.Equal(content.Bank.Data, read.Content.Bank.Data);
        Assert.Equal(content.Bank.Neighbours, read.Content.Bank.Neighbours);
        Assert.Equal(content.Backbone.Onnx, read.Content.Backbone.Onnx);
        Assert.Equal(content.Input, read.Content.Input);
        Assert.Equal(content.Scoring, read.Content.Scoring);
        Assert.Equal(content.Manifest.CreatedAtUtc, read.Content.Manifest.CreatedAtUtc);
        Assert.Equal(content.Manifest.BuildOptions, read.Content.Manifest.BuildOptions);
        // Writing what was read gives the same bytes: nothing is lost or reordered.
        ArtifactFile.Write(dir.File("b.pcb"), read.Content);
        Assert.Equal(File.ReadAllBytes(dir.File("a.pcb")), File.ReadAllBytes(dir.File("b.pcb")));
        // No temporary file is left behind.
        Assert.Equal(["a.pcb", "b.pcb"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_signed_artifact_is_version_2_and_a_version_1_reader_is_told_to_update()
    {
        using var dir = new TempFolder();
        string path = dir.File("a.pcb");
        ArtifactFile.Write(path, TestData.SmallContent());
        var (key, _, _) = SigningKeys.Generate(dir.File("k.pem"));
        using (var k = SigningKeys.LoadPrivate(key)) ArtifactFile.Sign(path, k);
        var signed = ArtifactFile.Read(path);
        Assert.Equal(2, signed.Version);
        Assert.NotNull(signed.Release);
        // The envelope starts [format, version, ...]: a reader of version 1 stops at the version and says why.
        var reader = new MessagePackReader(File.ReadAllBytes(path));
        reader.ReadArrayHeader();
        Assert.Equal(ArtifactFile.Format, reader.ReadString());
        Assert.Equal(2, reader.ReadInt32());
    }

    [Fact]
    public void Truncated_file_is_refused_with_a_clear_message()
    {
        using var dir = new TempFolder();
        ArtifactFile.Write(dir.File("a.pcb"), TestData.SmallContent());
        var bytes = File.ReadAllBytes(dir.File("a.pcb"));
        foreach (int keep in new[] { 1, 10, bytes.Length / 2, bytes.Length - 1 })
        {
            var e = Assert.Throws<ArtifactException>(() => ArtifactFile.Read(bytes[..keep], "cut.pcb"));
            Assert.Contains("cut.pcb", e.Message);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("not an EdgePatchCore artifact"), e.Message);
        }
    }

    [Fact]
    public void Flipped_bit_is_detected_by_the_checksum()
    {
        using var dir = new TempFolder();
        ArtifactFile.Write(dir.File("a.pcb"), TestData.SmallContent());
        var bytes = File.ReadAllBytes(dir.File("a.pcb"));
        bytes[bytes.Length / 2] ^= 0x04; // inside the bank
        var e = Assert.Throws<ArtifactException>(() => ArtifactFile.Read(bytes, "flipped.pcb"));
        Assert.Contains("checksum mismatch", e.Message);
    }

    [Fact]
    public void Newer_version_is_refused_before_anything_else_is_read()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(7); // a future layout with more fields
        w.Write(ArtifactFile.Format);
        w.Write(ArtifactFile.Version + 1);
        w.Write("something new");
        w.Flush();
        var e = Assert.Throws<ArtifactException>(() => ArtifactFile.Read(buffer.WrittenSpan.ToArray(), "future.pcb"));
        Assert.Contains($"version {ArtifactFile.Version + 1} is newer", e.Message);
    }

    [Fact]
    public void Other_files_are_refused()
    {
        Assert.Contains("empty", Assert.Throws<ArtifactException>(() => ArtifactFile.Read([], "empty.pcb")).Message);
        Assert.Contains("not an EdgePatchCore artifact",
            Assert.Throws<ArtifactException>(() => ArtifactFile.Read("PK\u0003\u0004 zip file"u8.ToArray(), "x.pcb")).Message);
        Assert.Contains("no such file", Assert.Throws<ArtifactException>(() => ArtifactFile.Read("/nonexistent/model.pcb")).Message);
    }

    [Fact]
    public void Sizes_that_do_not_add_up_are_refused_even_with_a_valid_checksum()
    {
        using var dir = new TempFolder();
        var content = TestData.SmallContent();
        var broken = content with { Bank = content.Bank with { Rows = content.Bank.Rows + 1 } };
        ArtifactFile.Write(dir.File("a.pcb"), broken);
        var e = Assert.Throws<ArtifactException>(() => ArtifactFile.Read(dir.File("a.pcb")));
        Assert.Contains("inconsistent artifact", e.Message);
    }

    [Fact]
    public void Failed_write_leaves_the_old_file_intact()
    {
        using var dir = new TempFolder();
        ArtifactFile.Write(dir.File("a.pcb"), TestData.SmallContent());
        var before = File.ReadAllBytes(dir.File("a.pcb"));
        Assert.ThrowsAny<IOException>(() => ArtifactFile.Write(dir.File("missing-folder/a.pcb"), TestData.SmallContent()));
        Assert.Equal(before, File.ReadAllBytes(dir.File("a.pcb")));
    }
}
