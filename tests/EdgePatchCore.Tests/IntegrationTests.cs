namespace EdgePatchCore.Tests;

/// <summary>
/// The trait of tests that start or need real outside parts: a mosquitto broker, systemd-analyze, strace, a tmpfs
/// mount, python3, chromium, node, xz. `.ci/run` installs them; `dotnet test --filter Category!=Integration` runs the rest anywhere.
/// </summary>
public static class IntegrationTests
{
    public const string Category = "Integration";
}
