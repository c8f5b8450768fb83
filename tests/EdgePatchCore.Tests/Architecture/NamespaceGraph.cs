using Mono.Cecil;
using Mono.Cecil.Cil;

namespace EdgePatchCore.Tests.Architecture;

/// <summary>
/// Which namespaces of one assembly use which others, read from the built IL (Mono.Cecil): a type uses every type
/// named in its base type, interfaces, fields, properties, method signatures, attributes and method bodies. Compiler-made
/// types (lambdas, iterators, records' helpers) count for the namespace of the type that declares them.
/// </summary>
public sealed class NamespaceGraph
{
    private readonly Dictionary<string, HashSet<string>> _uses = new(StringComparer.Ordinal);

    public NamespaceGraph(string assemblyPath, string rootNamespace)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        foreach (var type in module.GetTypes())
        {
            string from = NamespaceOf(type);
            if (!from.StartsWith(rootNamespace, StringComparison.Ordinal)) continue;
            var targets = Edges(from);
            void Use(TypeReference? t)
            {
                while (t is TypeSpecification spec)
                {
                    if (spec is GenericInstanceType generic) foreach (var a in generic.GenericArguments) Use(a);
                    t = spec.ElementType;
                }
                if (t is null || t is GenericParameter) return;
                string ns = NamespaceOf(t);
                if (ns.StartsWith(rootNamespace, StringComparison.Ordinal) && ns != from) targets.Add(ns);
            }
            Use(type.BaseType);
            foreach (var i in type.Interfaces) Use(i.InterfaceType);
            foreach (var a in type.CustomAttributes) Use(a.AttributeType);
            foreach (var f in type.Fields) Use(f.FieldType);
            foreach (var p in type.Properties) Use(p.PropertyType);
            foreach (var m in type.Methods)
            {
                Use(m.ReturnType);
                foreach (var p in m.Parameters) Use(p.ParameterType);
                if (!m.HasBody) continue;
                foreach (var v in m.Body.Variables) Use(v.VariableType);
                foreach (var instruction in m.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: Use(t); break;
                        case MethodReference r:
                            Use(r.DeclaringType);
                            Use(r.ReturnType);
                            foreach (var p in r.Parameters) Use(p.ParameterType);
                            if (r is GenericInstanceMethod g) foreach (var a in g.GenericArguments) Use(a);
                            break;
                        case FieldReference f: Use(f.DeclaringType); Use(f.FieldType); break;
                    }
                }
            }
        }
    }

    private HashSet<string> Edges(string from)
    {
        if (!_uses.TryGetValue(from, out var set)) _uses[from] = set = new(StringComparer.Ordinal);
        return set;
    }

    /// <summary>A nested type's namespace is its outermost declaring type's.</summary>
    private static string NamespaceOf(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type.Namespace;
    }

    public IReadOnlyCollection<string> Namespaces => _uses.Keys;
    public IReadOnlySet<string> Uses(string ns) => _uses.TryGetValue(ns, out var set) ? set : new HashSet<string>();

    /// <summary>The strongly connected groups of two or more namespaces (each one a cycle), by Tarjan's algorithm.</summary>
    public List<List<string>> Cycles()
    {
        int index = 0;
        var indices = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<List<string>>();
        void Visit(string v)
        {
            indices[v] = low[v] = index++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in Uses(v))
            {
                if (!indices.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], indices[w]);
            }
            if (low[v] != indices[v]) return;
            var group = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); group.Add(x); } while (x != v);
            if (group.Count > 1) cycles.Add(group.Order(StringComparer.Ordinal).ToList());
        }
        foreach (var v in _uses.Keys.Order(StringComparer.Ordinal).ToList()) if (!indices.ContainsKey(v)) Visit(v);
        return cycles;
    }

    /// <summary>The pairs inside <paramref name="group"/> that use each other, for a readable failure.</summary>
    public IEnumerable<string> Edges(IReadOnlyCollection<string> group) =>
        group.SelectMany(a => Uses(a).Where(group.Contains).Select(b => $"{a} -> {b}"));
}
