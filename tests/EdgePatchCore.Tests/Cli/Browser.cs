using Microsoft.Playwright;

namespace EdgePatchCore.Tests.Cli;

/// <summary>
/// Debian's chromium driven by Playwright, headless. Playwright's own browser download cannot work offline, so
/// the executable is /usr/bin/chromium (EDGEPATCHCORE_CHROMIUM overrides); .ci/run installs it.
/// </summary>
public static class Browser
{
    public static string Executable =>
        Environment.GetEnvironmentVariable("EDGEPATCHCORE_CHROMIUM") is { Length: > 0 } path ? path
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium"
        : throw new InvalidOperationException("chromium is not installed: apt-get install -y chromium (.ci/run does this)");

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--no-sandbox"], // CI runs as root, where chromium's sandbox refuses to start
        });
        return (playwright, browser);
    }
}
