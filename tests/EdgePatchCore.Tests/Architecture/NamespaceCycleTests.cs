namespace EdgePatchCore.Tests.Architecture;

/// <summary>
/// Folders depend one way (docs/design.md): no namespace of the core or the agent uses, directly or through others,
/// a namespace that uses it back. Read from the built assemblies, so it sees what the compiler sees.
/// </summary>
public class NamespaceCycleTests
{
    [Theory]
    [InlineData("EdgePatchCore.Core.dll", "EdgePatchCore")]
    [InlineData("agent.dll", "EdgePatchCore.Agent")]
    public void No_namespace_cycles(string assembly, string root)
    {
        var graph = new NamespaceGraph(Path.Combine(AppContext.BaseDirectory, assembly), root);
        Assert.True(graph.Namespaces.Count > 3, $"{assembly}: no namespaces read");
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, string.Join("\n", cycles.Select(c => $"cycle: {string.Join(", ", c)}\n  {string.Join("\n  ", graph.Edges(c))}")));
    }
}
