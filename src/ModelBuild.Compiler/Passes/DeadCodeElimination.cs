using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>Removes nodes whose outputs no output depends on, and the weights only they read.</summary>
public static class DeadCodeElimination
{
    public static ModelGraph Run(ModelGraph graph)
    {
        var live = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var kept = new List<GraphNode>();
        for (var i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (node.Writes().Any(live.Contains))
            {
                kept.Add(node);
                live.UnionWith(node.Reads());
            }
        }
        kept.Reverse();
        return graph.With(nodes: kept).WithoutUnreadWeights();
    }
}
