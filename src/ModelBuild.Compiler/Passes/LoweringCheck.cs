using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>Every node must have a kernel; otherwise one error lists every unsupported operator and where it is used.</summary>
public static class LoweringCheck
{
    public static void Run(ModelGraph graph, Func<string, bool> isSupported, string file)
    {
        var unsupported = graph.Nodes.Where(n => !isSupported(n.Target)).GroupBy(n => n.Target, StringComparer.Ordinal).ToList();
        if (unsupported.Count == 0)
        {
            return;
        }
        var lines = unsupported.Select(g => $"{g.Key} (used by {string.Join("; ", g.Select(Where))})");
        throw new ModelBuildException(DiagnosticCodes.UnsupportedOperators,
            $"the runtime has no kernel for {unsupported.Count} operator{(unsupported.Count == 1 ? "" : "s")} of the model: {string.Join(", ", lines)}. "
            + "Export the model with run_decompositions() to lower them to core ATen operators, or replace them in the model.", file);
    }

    private static string Where(GraphNode node) =>
        node.Origin.Length > 0 ? $"node '{node.DisplayName()}' at {node.Origin}" : $"node '{node.DisplayName()}'";
}
