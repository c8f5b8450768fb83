using System.Diagnostics;

namespace EdgePatchCore.Tests.Scoring;

/// <summary>
/// The probe kernels of ARM CPUs, which this x86 machine cannot run: tests/EdgePatchCore.KernelCheck is published for
/// linux-arm64 and run under qemu's user-mode emulation, as a CPU with ARM's dot-product extension (qemu's "max", which the
/// Jetson Orin's Cortex-A78AE has) and as one without it (the Jetson Nano's Cortex-A57), with the checks of
/// <see cref="KernelCheck.ProbeKernelCheck"/>. Needs qemu-user-static and the arm64 C and C++ runtimes (an integration
/// test: `.ci/run` installs them).
/// </summary>
[Trait("Category", IntegrationTests.Category)]
public class ArmProbeKernelTests
{
    [Fact]
    public void Every_arm_kernel_passes_the_probe_checks_under_emulation()
    {
        using var work = new TempFolder();
        // The build goes under the temporary folder (--artifacts-path), so the tree's own outputs stay as they are.
        var (code, output) = Run("dotnet", ["publish", TestData.RepositoryFile("tests/EdgePatchCore.KernelCheck/EdgePatchCore.KernelCheck.csproj"),
            "-c", "Release", "-r", "linux-arm64", "--self-contained", "--artifacts-path", work.Path, "-nologo"], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, output);
        string program = Directory.GetFiles(work.Path, "kernel-check", SearchOption.AllDirectories).Single(f => f.Contains("publish"));

        foreach (var (cpu, kernels) in new[] { ("max", "kernels: ArmDot, Portable; the default: ArmDot"),
                     ("cortex-a57", "kernels: Portable; the default: Portable") })
        {
            (code, output) = Run("qemu-aarch64-static", ["-L", "/", "-cpu", cpu, program], TimeSpan.FromMinutes(2));
            Assert.True(code == 0, $"-cpu {cpu}: {output}");
            Assert.Contains(kernels, output);
            Assert.Contains("all checks passed", output);
        }
    }

    private static (int Code, string Output) Run(string file, string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout)) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.HasExited ? process.ExitCode : -1, stdout.Result + stderr.Result);
    }
}
