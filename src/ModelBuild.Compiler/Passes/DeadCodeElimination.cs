using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Removes nodes whose outputs no output depends on, and the weights only they read; inside every subgraph, the nodes
/// its outputs do not depend on. A node that writes nothing runs for its effect (a runtime assertion) and stays.
/// </summary>
public static class DeadCodeElimination
{
    public static ModelGraph Run(ModelGraph graph) =>
        graph.With(nodes: Live(graph.Nodes, graph.Outputs.Select(o => o.Name))).WithoutUnreadWeights();

    private static List<GraphNode> Live(IReadOnlyList<GraphNode> nodes, IEnumerable<string> outputs)
    {
        var live = outputs.ToHashSet(StringComparer.Ordinal);
        var kept = new List<GraphNode>();
        for (var i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (!node.Writes().Any() || node.Writes().Any(live.Contains))
            {
                kept.Add(node.WithSubgraphs(s => s with { Nodes = Live(s.Nodes, s.Outputs.SelectMany(GraphValueNames.Read)) }));
                live.UnionWith(node.Reads());
            }
        }
        kept.Reverse();
        return kept;
    }
}
