using System.Reflection;
using System.Text.Json;

namespace EdgePatchCore.Tests.Architecture;

/// <summary>What each project may depend on (docs/design.md): the core is the ML library alone; the agent ships no demo.</summary>
public class ProjectBoundaryTests
{
    [Fact]
    public void The_core_references_no_MQTT_web_server_or_console()
    {
        var core = typeof(EdgePatchCore.Scoring.PatchCoreScorer).Assembly;
        Assert.Equal("EdgePatchCore.Core", core.GetName().Name);
        var references = core.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(references, n => n.StartsWith("MQTTnet", StringComparison.Ordinal));
        Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain("System.Console", references);
        Assert.DoesNotContain(references, n => n.StartsWith("EdgePatchCore.", StringComparison.Ordinal));
    }

    [Fact]
    public void Messaging_depends_on_the_core_and_MQTT_only()
    {
        var messaging = typeof(EdgePatchCore.Messaging.Outbox).Assembly;
        var references = messaging.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("EdgePatchCore.Core", references);
        Assert.Contains("MQTTnet", references);
        Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || n == "MQTTnet.Server");
    }

    [Fact]
    public void The_agent_carries_neither_the_demo_nor_an_MQTT_broker()
    {
        // The agent's dependency manifest, as its build wrote it, is what `dotnet publish` (and so the .deb) ships.
        var deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "agent.deps.json"));
        using var json = JsonDocument.Parse(deps);
        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(libraries, n => n.StartsWith("MQTTnet/", StringComparison.Ordinal));
        Assert.DoesNotContain(libraries, n => n.StartsWith("MQTTnet.Server/", StringComparison.Ordinal));
        Assert.DoesNotContain(libraries, n => n.StartsWith("EdgePatchCore.Demo/", StringComparison.OrdinalIgnoreCase) || n.StartsWith("demo/", StringComparison.Ordinal));
        var agent = Assembly.Load("agent");
        Assert.DoesNotContain(agent.GetReferencedAssemblies(), a => a.Name is "MQTTnet.Server" or "demo");
    }
}
