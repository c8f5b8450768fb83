using System.Security.Cryptography;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Tests.Cli;
using EdgePatchCore.Trainer;
using MessagePack;

namespace EdgePatchCore.Tests.Artifacts;

public class SigningTests
{
    /// <summary>The same model with a changed threshold, carrying the original's (now wrong) signature and a correct checksum.</summary>
    internal static void TamperKeepingSignature(string signedPath, string output)
    {
        var signed = ArtifactFile.Read(signedPath);
        var changed = signed.Content with { Scoring = signed.Content.Scoring with { Threshold = signed.Content.Scoring.Threshold * 10 } };
        var payload = MessagePackSerializer.Serialize(changed);
        ArtifactFile.WriteEnvelope(output, ArtifactFile.Version, payload, SHA256.HashData(payload), signed.Signature);
    }

    [Fact]
    public void Keygen_writes_a_private_key_only_its_owner_can_read()
    {
        using var folder = new TempFolder();
        var r = TrainerRunner.Run("keygen", "--out", folder.File("plant.pem"));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.False(OperatingSystem.IsWindows(), "the agent and trainer target Linux");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(folder.File("plant.pem")));
        Assert.Contains("BEGIN PRIVATE KEY", File.ReadAllText(folder.File("plant.pem")));
        Assert.Contains("BEGIN PUBLIC KEY", File.ReadAllText(folder.File("plant.pub.pem")));
        var again = TrainerRunner.Run("keygen", "--out", folder.File("plant.pem"));
        Assert.Equal(TrainerApp.ExitFailure, again.ExitCode);
        Assert.Contains("already exists", again.Error);
        again.AssertNoStackTrace();
    }

    [Fact]
    public void Signing_keeps_the_id_and_only_the_trusted_key_over_the_unchanged_payload_verifies()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.pcb");
        string id = ArtifactFile.Write(path, TestData.SmallContent());
        var (key, pub, keyId) = SigningKeys.Generate(folder.File("k.pem"));
        var (otherKey, otherPub, _) = SigningKeys.Generate(folder.File("other.pem"));
        var trusted = new TrustedKeys([pub]);

        Assert.Equal("the artifact is not signed", trusted.Check(ArtifactFile.Read(path)));
        using (var k = SigningKeys.LoadPrivate(key)) ArtifactFile.Sign(path, k);
        var signed = ArtifactFile.Read(path);
        Assert.Equal(id, signed.Id);
        Assert.Equal(keyId, signed.Signature!.KeyId);
        Assert.True(signed.Signature.IsValidFor(signed.Hash));
        Assert.Null(trusted.Check(signed));
        Assert.Contains("not among the trusted keys", new TrustedKeys([otherPub]).Check(signed));

        string tampered = folder.File("tampered.pcb");
        TamperKeepingSignature(path, tampered);
        var t = ArtifactFile.Read(tampered); // checksum fine: the attacker recomputed it
        Assert.False(t.Signature!.IsValidFor(t.Hash));
        Assert.Contains("does not verify", trusted.Check(t));

        using (var k = SigningKeys.LoadPrivate(otherKey)) ArtifactFile.Sign(path, k); // re-signing replaces the signature
        Assert.Contains("not among the trusted keys", trusted.Check(ArtifactFile.Read(path)));
        Assert.Throws<ArtifactException>(() => SigningKeys.LoadPrivate(pub)); // a public key cannot sign
    }

    [Fact]
    public void Inspect_reports_the_signature_and_fails_on_an_invalid_one()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.pcb");
        ArtifactFile.Write(path, TestData.SmallContent());
        Assert.Contains("signature           none", TrainerRunner.Run("inspect", path).Out);
        Assert.Equal(0, TrainerRunner.Run("keygen", "--out", folder.File("k.pem")).ExitCode);
        var sign = TrainerRunner.Run("sign", path, "--key", folder.File("k.pem"));
        Assert.True(sign.ExitCode == 0, sign.Error);
        var inspect = TrainerRunner.Run("inspect", path);
        Assert.Equal(0, inspect.ExitCode);
        Assert.Matches("key [0-9a-f]{16}: valid", inspect.Out);
        TamperKeepingSignature(path, folder.File("t.pcb"));
        var bad = TrainerRunner.Run("inspect", folder.File("t.pcb"));
        Assert.Equal(TrainerApp.ExitFailure, bad.ExitCode);
        Assert.Contains("INVALID", bad.Out);
        var wrongKey = TrainerRunner.Run("sign", path, "--key", folder.File("k.pub.pem"));
        Assert.Equal(TrainerApp.ExitFailure, wrongKey.ExitCode);
        Assert.Contains("public key", wrongKey.Error);
    }
}
