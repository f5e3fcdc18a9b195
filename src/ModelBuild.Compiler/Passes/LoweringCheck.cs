using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Every node, subgraphs' nodes included, must run on some backend; otherwise one error lists every unsupported
/// operator, one line each, with how many nodes use it, the first of their names and the distinct source lines they come from.
/// </summary>
public static partial class LoweringCheck
{
    private const int NamesShown = 3;
    private const int OriginsShown = 3;

    public static void Run(ModelGraph graph, Func<GraphNode, bool> isSupported, string file)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(isSupported);
        var unsupported = graph.Nodes.WithNested().Where(n => !isSupported(n)).GroupBy(n => n.Target, StringComparer.Ordinal).ToList();
        if (unsupported.Count == 0)
        {
            return;
        }
        var lines = unsupported.Select(g => $"\n  {Line(g.Key, [.. g])}");
        throw new ModelBuildException(DiagnosticCodes.UnsupportedOperators,
            $"the runtime has no kernel for {unsupported.Count} operator{(unsupported.Count == 1 ? "" : "s")} of the model "
            + "(export it with run_decompositions() to lower them to core ATen operators, or replace them in the model):"
            + string.Concat(lines), file);
    }

    /// <summary><c>torch.ops.aten.silu_.default: 31 nodes (silu_, silu__1, silu__2, ...) at torch/nn/modules/activation.py:475</c>.</summary>
    private static string Line(string target, IReadOnlyList<GraphNode> nodes)
    {
        var names = string.Join(", ", nodes.Take(NamesShown).Select(n => n.DisplayName())) + (nodes.Count > NamesShown ? ", ..." : "");
        var origins = nodes.Select(n => ShortOrigin(n.Origin)).Where(o => o.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var at = origins.Count == 0 ? ""
            : " at " + string.Join(", ", origins.Take(OriginsShown))
              + (origins.Count > OriginsShown ? $" and {origins.Count - OriginsShown} more place{(origins.Count - OriginsShown == 1 ? "" : "s")}" : "");
        return $"{target}: {nodes.Count} node{(nodes.Count == 1 ? "" : "s")} ({names}){at}";
    }

    /// <summary>
    /// "file:line" from an origin "/…/site-packages/torch/nn/modules/activation.py, line 475, in forward: code", the
    /// file relative to its packages folder; an origin of another form as it is.
    /// </summary>
    internal static string ShortOrigin(string origin)
    {
        var match = Frame().Match(origin);
        if (!match.Success)
        {
            return origin;
        }
        var path = match.Groups["file"].Value;
        var packages = Math.Max(path.LastIndexOf("site-packages/", StringComparison.Ordinal), path.LastIndexOf("dist-packages/", StringComparison.Ordinal));
        if (packages >= 0)
        {
            path = path[(packages + "site-packages/".Length)..];
        }
        return $"{path}:{match.Groups["line"].Value}";
    }

    [GeneratedRegex(@"^(?<file>.+?), line (?<line>\d+)")]
    private static partial Regex Frame();
}
