using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// The plan's FreeAfter: each intermediate value is freed right after the node that reads it last (or right after
/// the node that writes it, when nothing reads it). Only tensors are freed; sym-ints cost nothing. Inputs, weights and outputs are never freed.
/// </summary>
public static class MemoryPlanner
{
    public static IReadOnlyList<IReadOnlyList<string>> FreeAfter(IReadOnlyList<GraphNode> nodes, IEnumerable<string> inputs, IEnumerable<string> weights, IEnumerable<string> outputs)
    {
        var kept = inputs.Concat(weights).Concat(outputs).ToHashSet(StringComparer.Ordinal);
        var lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var name in nodes[i].Outputs.SelectMany(GraphValueNames.Tensors))
            {
                lastUse[name] = i;
            }
            foreach (var name in nodes[i].Inputs.SelectMany(a => GraphValueNames.Tensors(a.Value)))
            {
                lastUse[name] = i;
            }
        }
        var free = Enumerable.Range(0, nodes.Count).Select(_ => new List<string>()).ToArray();
        foreach (var (name, at) in lastUse)
        {
            if (!kept.Contains(name))
            {
                free[at].Add(name);
            }
        }
        foreach (var list in free)
        {
            list.Sort(StringComparer.Ordinal);
        }
        return free;
    }
}
