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

    /// <param name="wrapper">a script that starts the browser another way (inside a network namespace: <see cref="Wrapper"/>)</param>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync(string? wrapper = null)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = wrapper ?? Executable,
            Headless = true,
            Args = ["--no-sandbox"], // CI runs as root, where chromium's sandbox refuses to start
        });
        return (playwright, browser);
    }

    /// <summary>
    /// Writes <paramref name="path"/>: a script that runs chromium under <paramref name="launcher"/> (ip netns exec NAME). Playwright talks to
    /// the browser over pipes, so it drives a browser whose network is another namespace's.
    /// </summary>
    public static string Wrapper(string path, IEnumerable<string> launcher)
    {
        File.WriteAllText(path, $"#!/bin/sh\nexec {string.Join(' ', launcher)} {Executable} \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>
    /// Opens a local page and checks what a self-contained page must satisfy: it fetches nothing but itself and
    /// inline data, ships no script, stylesheet link or frame, every image decodes (lazy ones are checked when shown),
    /// and nothing is logged as an error.
    /// </summary>
    public static async Task<IPage> OpenSelfContainedAsync(IBrowser browser, string path)
    {
        var page = await browser.NewPageAsync();
        var fetched = new List<string>();
        var errors = new List<string>();
        page.Request += (_, request) => fetched.Add(request.Url);
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        Assert.All(fetched, url => Assert.True(url.StartsWith("file:", StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), url));
        Assert.Equal(0, await page.Locator("script, link[rel=stylesheet], iframe").CountAsync());
        Assert.Equal(0, await page.EvaluateAsync<int>("() => [...document.images].filter(i => i.loading !== 'lazy' && (!i.complete || i.naturalWidth === 0)).length"));
        Assert.Empty(errors);
        return page;
    }

    /// <summary>
    /// How long a page takes to open in a running browser: the median over <paramref name="runs"/> fresh tabs of the
    /// time from navigation start to the end of the load event (every eager image decoded, layout done), in ms.
    /// </summary>
    public static async Task<double> OpenTimeAsync(IBrowser browser, string path, int runs = 3)
    {
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var page = await browser.NewPageAsync();
            await page.GotoAsync(new Uri(path).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load, Timeout = 60_000 });
            times.Add(await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].loadEventEnd"));
            await page.CloseAsync();
        }
        return times.Order().ElementAt(times.Count / 2);
    }
}
