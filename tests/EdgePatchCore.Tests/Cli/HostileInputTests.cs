using EdgePatchCore.Artifacts;
using EdgePatchCore.Tests.Agent;
using EdgePatchCore.Tests.Artifacts;
using EdgePatchCore.Tests.FileSystem;
using EdgePatchCore.Tests.Imaging;
using EdgePatchCore.Trainer;
using MessagePack;

namespace EdgePatchCore.Tests.Cli;

/// <summary>The trainer on crafted artifacts, special files and damaged images: one clear error line and exit 1, never a hang or a crash.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class HostileInputTests(AgentFixture fixture)
{
    private static RunResult RunWithin(TimeSpan limit, params string[] args)
    {
        var run = Task.Run(() => TrainerRunner.Run(args));
        Assert.True(run.Wait(limit), $"trainer {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s");
        return run.Result;
    }

    [Fact]
    public void A_crafted_artifact_header_is_a_one_line_error_not_an_internal_error()
    {
        using var dir = new TempFolder();
        // [format, version, bin32 of length 0xFFFFFFFF, ...]: the payload claims 4 GiB.
        byte[] format = "edgepatchcore.artifact"u8.ToArray();
        File.WriteAllBytes(dir.File("crafted.pcb"), [0x95, 0xD9, (byte)format.Length, .. format, 0x01, 0xC6, 0xFF, 0xFF, 0xFF, 0xFF, .. "abc"u8]);
        foreach (var command in new[] { "inspect", "score" })
        {
            var r = command == "inspect" ? TrainerRunner.Run("inspect", dir.File("crafted.pcb")) : TrainerRunner.Run("score", dir.File("crafted.pcb"), fixture.Pngs[0]);
            Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
            Assert.Contains("truncated or damaged artifact", r.Error);
            Assert.DoesNotContain("internal error", r.Error);
            r.AssertNoStackTrace();
        }
    }

    [Fact]
    public void Crafted_artifact_contents_are_refused_by_score_with_the_reason()
    {
        using var dir = new TempFolder();
        var c = TestData.SmallContent();
        var one = TestData.SmallContent(rows: 1, b: 1);
        CraftedArtifacts.WriteRaw(dir.File("huge-b.pcb"), one with
        {
            Bank = one.Bank with { NeighbourCount = 4_000_000, Neighbours = new byte[16_000_000] },
            Scoring = one.Scoring with { NeighbourCount = 4_000_000 },
        });
        CraftedArtifacts.WriteRaw(dir.File("nan.pcb"), c with { Scoring = c.Scoring with { Threshold = float.NaN } });
        CraftedArtifacts.WriteRaw(dir.File("nil.pcb"), c with { Bank = c.Bank with { Data = null! } });
        foreach (var (file, reason) in new[] { ("huge-b.pcb", "b = 4000000 for 1 rows"), ("nan.pcb", "threshold NaN"), ("nil.pcb", "bank data missing") })
        {
            var r = TrainerRunner.Run("score", dir.File(file), fixture.Pngs[0]);
            Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
            Assert.Contains(reason, r.Error);
            Assert.Single(r.Error.Trim().Split('\n'));
            r.AssertNoStackTrace();
        }
    }

    [Fact]
    public void Score_refuses_special_files_and_images_cut_short_and_scores_the_rest()
    {
        using var dir = new TempFolder();
        RegularFileTests.MakeFifo(dir.File("pipe.png"));
        File.CreateSymbolicLink(dir.File("link.png"), fixture.Pngs[0]);
        File.WriteAllBytes(dir.File("cut.jpg"), CraftedImages.CutInScanData(File.ReadAllBytes(fixture.Jpegs[0])));
        var r = RunWithin(TimeSpan.FromSeconds(60), "score", fixture.ModelA, dir.File("pipe.png"), dir.File("link.png"), dir.File("cut.jpg"),
                          fixture.Pngs[0], "--device", "cpu");
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("pipe.png: a FIFO (named pipe), not a regular file", r.Error);
        Assert.Contains("link.png: a symbolic link, not a regular file", r.Error);
        Assert.Contains("cut.jpg: JPEG image data ends before the end-of-image marker", r.Error);
        Assert.Single(r.Out.Trim().Split('\n')); // the one good image is scored
        Assert.StartsWith(fixture.Pngs[0], r.Out);
        r.AssertNoStackTrace();
    }

    [Fact]
    public void Sign_writes_a_release_statement_that_inspect_shows_and_checks()
    {
        using var dir = new TempFolder();
        string path = dir.File("m.pcb");
        ArtifactFile.Write(path, TestData.SmallContent());
        var sign = TrainerRunner.Run("sign", path, "--key", fixture.PlantKey, "--release-version", "7", "--expires-in", "30");
        Assert.True(sign.ExitCode == 0, sign.Error);
        Assert.Contains("release 7 of widget, expires", sign.Out);
        var inspect = TrainerRunner.Run("inspect", path);
        Assert.Equal(0, inspect.ExitCode);
        Assert.Matches(@"release +version 7 of widget, issued .* UTC, expires .* UTC \(valid\), payload SHA-256 [0-9a-f]{16}", inspect.Out);
        var release = ArtifactFile.Read(path).Release!;
        Assert.Equal(30, (release.ExpiresAtUtc - release.IssuedAtUtc).TotalDays, 3);
        Assert.Equal(ArtifactFile.Read(path).Hash, release.PayloadSha256);

        Assert.Equal(TrainerApp.ExitUsage, TrainerRunner.Run("sign", path, "--key", fixture.PlantKey, "--release-version", "-3").ExitCode);
        Assert.Equal(TrainerApp.ExitUsage, TrainerRunner.Run("build", "--product", "p", "--release-version", "3").ExitCode);

        // A signature over the payload alone (no statement) is shown as such: agents refuse it.
        var a = ArtifactFile.Read(path);
        using (var key = SigningKeys.LoadPrivate(fixture.PlantKey))
        {
            var legacy = new ArtifactSignature(SigningKeys.KeyIdOf(key), ArtifactSignature.EcdsaP256Sha256, key.ExportSubjectPublicKeyInfo(), key.SignHash(a.Hash));
            ArtifactFile.WriteEnvelope(dir.File("legacy.pcb"), 1, MessagePackSerializer.Serialize(a.Content), a.Hash, legacy);
        }
        Assert.Contains("signed over the payload alone, which agents refuse", TrainerRunner.Run("inspect", dir.File("legacy.pcb")).Out);
        Assert.Contains("without a release statement", new TrustedKeys([fixture.PlantPublicKey]).Check(ArtifactFile.Read(dir.File("legacy.pcb"))));
    }
}
