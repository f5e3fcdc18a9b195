namespace ModelBuild.Engine.Graph;

/// <summary>The subgraphs higher-order operators hold, for the code that must look into them.</summary>
public static class NestedNodes
{
    /// <summary>The subgraphs among the node's arguments (<c>cond</c>'s branches, <c>while_loop</c>'s condition and body), in argument order.</summary>
    public static IEnumerable<Subgraph> Subgraphs(this GraphNode node) => node.Inputs.Select(i => i.Value).OfType<GraphArg>().Select(g => g.Graph);

    /// <summary>Every node, and after each the nodes of its subgraphs, at any depth.</summary>
    public static IEnumerable<GraphNode> WithNested(this IEnumerable<GraphNode> nodes) =>
        nodes.SelectMany(n => n.Subgraphs().SelectMany(s => s.Nodes.WithNested()).Prepend(n));

    /// <summary>The node with each subgraph replaced by what <paramref name="map"/> makes of it; the node itself when it has none.</summary>
    public static GraphNode WithSubgraphs(this GraphNode node, Func<Subgraph, Subgraph> map) => !node.Subgraphs().Any() ? node : node with
    {
        Inputs = [.. node.Inputs.Select(i => i.Value is GraphArg g ? i with { Value = g with { Graph = map(g.Graph) } } : i)],
    };
}
