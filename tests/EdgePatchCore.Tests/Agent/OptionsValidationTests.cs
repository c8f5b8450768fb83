using EdgePatchCore.Agent;
using Microsoft.Extensions.Options;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The host validates its own options when it starts (IValidateOptions + ValidateOnStart), whoever builds it.</summary>
public class OptionsValidationTests
{
    [Fact]
    public async Task A_host_with_an_invalid_configuration_does_not_start_and_says_why()
    {
        using var work = new TempFolder();
        var config = new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = "line1",
            ["Agent:Artifact"] = work.File("model.pcb"),
            ["Agent:Device"] = "gpu2",
            ["Agent:BankPrecision"] = "int4",
            ["Agent:Search"] = "fastest",
            ["Agent:StateDirectory"] = work.File("state"),
            ["Agent:Web:Urls"] = "",
        };
        using var host = AgentHost.CreateBuilder([], null, config).Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(e.Failures, f => f.Contains("Agent:Device is 'gpu2'", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("Agent:BankPrecision is 'int4'", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("Agent:Search is 'fastest'", StringComparison.Ordinal));

        using var again = AgentHost.CreateBuilder([], null, config).Build();
        Assert.Equal(AgentProgram.ExitConfig, await AgentProgram.RunHostAsync(again)); // a configuration error: systemd does not restart it
    }
}
