using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>A pass's result: the graph with some of its parts replaced.</summary>
internal static class GraphCopy
{
    public static ModelGraph With(this ModelGraph g,
        IReadOnlyList<GraphNode>? nodes = null,
        IReadOnlyList<Weight>? weights = null,
        IReadOnlyDictionary<string, TensorMeta>? values = null,
        IReadOnlyList<GraphValue>? outputs = null,
        IReadOnlyList<string>? mutatedInputs = null) => new()
    {
        Name = g.Name,
        Source = g.Source,
        Inputs = g.Inputs,
        Outputs = outputs ?? g.Outputs,
        MutatedInputs = mutatedInputs ?? g.MutatedInputs,
        Nodes = nodes ?? g.Nodes,
        Weights = weights ?? g.Weights,
        Values = values ?? g.Values,
        Symbols = g.Symbols,
        Relations = g.Relations,
        SymIntValues = g.SymIntValues,
        RangesFromUser = g.RangesFromUser,
        ExampleInputShapes = g.ExampleInputShapes,
    };

    /// <summary>Drops weights no node reads (and that are not outputs).</summary>
    public static ModelGraph WithoutUnreadWeights(this ModelGraph g)
    {
        var read = g.Nodes.SelectMany(n => n.Reads()).Concat(g.Outputs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        return g.Weights.All(w => read.Contains(w.ValueName)) ? g : g.With(weights: [.. g.Weights.Where(w => read.Contains(w.ValueName))]);
    }
}
