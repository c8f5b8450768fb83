using System.Diagnostics;
using System.Security.Cryptography;

namespace EdgePatchCore.Tests.Packaging;

/// <summary>
/// packaging/gpu-reassemble.sh on a small bundle laid out as packaging/gpu-bundle.sh lays out the real one (a tar.xz of
/// a trainer folder and an xz-compressed CUDA provider, split into pieces, and manifest.txt): it rebuilds the files
/// and checks every hash, and refuses a missing or damaged piece by name before writing anything.
/// Needs bash, xz and coreutils (an integration test: `.ci/run` installs xz where it is missing).
/// </summary>
[Trait("Category", IntegrationTests.Category)]
public class GpuReassemblyTests
{
    private static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private static (int Code, string Output) Bash(string script, string workingDirectory)
    {
        var info = new ProcessStartInfo("bash", ["-c", script]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    /// <summary>Makes the pieces of a small bundle in <paramref name="pieces"/>, 4 KiB a piece.</summary>
    private static void MakeBundle(TempFolder work, string pieces)
    {
        Directory.CreateDirectory(work.File("run/trainer"));
        var rng = new Random(3);
        var payload = new byte[20_000];
        rng.NextBytes(payload);
        File.WriteAllBytes(work.File("run/trainer/trainer"), payload);
        File.WriteAllText(work.File("run/gpu-check.sh"), "echo check\n");
        rng.NextBytes(payload);
        File.WriteAllBytes(work.File("libonnxruntime_providers_cuda.so"), payload);
        var (code, output) = Bash($"""
            set -e
            mkdir -p {pieces}
            tar -C run -cf - . | xz -1 > bundle.tar.xz
            xz -1 -c libonnxruntime_providers_cuda.so > cuda-provider.xz
            m={pieces}/manifest.txt; echo "# test bundle" > $m
            for f in bundle.tar.xz cuda-provider.xz; do
              split -b 4K -d -a 2 $f {pieces}/$f.
              for p in $(cd {pieces} && ls $f.[0-9][0-9]); do echo "piece $(sha256sum {pieces}/$p | cut -d' ' -f1) $p" >> $m; done
            done
            echo "file $(sha256sum bundle.tar.xz | cut -d' ' -f1) bundle.tar.xz $(cd {pieces} && echo bundle.tar.xz.[0-9][0-9])" >> $m
            echo "file $(sha256sum cuda-provider.xz | cut -d' ' -f1) cuda-provider.xz $(cd {pieces} && echo cuda-provider.xz.[0-9][0-9])" >> $m
            echo "file $(sha256sum libonnxruntime_providers_cuda.so | cut -d' ' -f1) libonnxruntime_providers_cuda.so cuda-provider.xz" >> $m
            """, work.Path);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void The_pieces_are_reassembled_and_every_hash_checked()
    {
        using var work = new TempFolder();
        MakeBundle(work, work.File("pieces"));
        var (code, output) = Bash($"bash {TestData.RepositoryFile("packaging/gpu-reassemble.sh")} pieces target", work.Path);
        Assert.True(code == 0, output);
        Assert.Equal(Sha(work.File("run/trainer/trainer")), Sha(work.File("target/trainer/trainer")));
        Assert.Equal(Sha(work.File("libonnxruntime_providers_cuda.so")), Sha(work.File("target/trainer/libonnxruntime_providers_cuda.so")));
        Assert.True(File.Exists(work.File("target/gpu-check.sh")));
        Assert.Contains("ok  libonnxruntime_providers_cuda.so", output);
    }

    [Fact]
    public void A_missing_or_damaged_piece_is_refused_by_name_before_anything_is_written()
    {
        using var work = new TempFolder();
        MakeBundle(work, work.File("pieces"));
        File.Delete(work.File("pieces/cuda-provider.xz.01"));
        var bytes = File.ReadAllBytes(work.File("pieces/bundle.tar.xz.00"));
        bytes[100] ^= 0xFF;
        File.WriteAllBytes(work.File("pieces/bundle.tar.xz.00"), bytes);
        var (code, output) = Bash($"bash {TestData.RepositoryFile("packaging/gpu-reassemble.sh")} pieces target", work.Path);
        Assert.Equal(1, code);
        Assert.Contains("missing piece: cuda-provider.xz.01", output);
        Assert.Contains("damaged piece: bundle.tar.xz.00", output);
        Assert.False(Directory.Exists(work.File("target")));
    }
}
