using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;

namespace ModelBuild.Compiler.Passes;

/// <summary>
/// Every node, subgraphs' nodes included, must run on some backend; otherwise one error lists every unsupported
/// operator, one line each, with how many nodes use it, the first of their names, the distinct source lines they come
/// from and, when the operator has a kernel that refuses the nodes' arguments, why.
/// </summary>
public static partial class LoweringCheck
{
    private const int NamesShown = 3;
    private const int OriginsShown = 3;

    /// <param name="whyUnsupported">null when some backend runs the node, else why none does.</param>
    public static void Run(ModelGraph graph, Func<GraphNode, string?> whyUnsupported, string file)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(whyUnsupported);
        var unsupported = graph.Nodes.WithNested().Select(n => (Node: n, Why: whyUnsupported(n))).Where(r => r.Why is not null)
            .GroupBy(r => (r.Node.Target, r.Why)).ToList();
        if (unsupported.Count == 0)
        {
            return;
        }
        var lines = unsupported.Select(g => $"\n  {Line(g.Key.Target, [.. g.Select(r => r.Node)])}{(g.Key.Why == OpKernels.NoKernel ? "" : $": {g.Key.Why}")}");
        var operators = unsupported.Select(g => g.Key.Target).Distinct(StringComparer.Ordinal).Count();
        throw new ModelBuildException(DiagnosticCodes.UnsupportedOperators,
            $"the runtime has no kernel for {operators} operator{(operators == 1 ? "" : "s")} of the model, or none for the arguments it gives "
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
