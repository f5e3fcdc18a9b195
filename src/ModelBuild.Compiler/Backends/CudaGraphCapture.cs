using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;

namespace ModelBuild.Compiler.Backends;

/// <summary>
/// Which nodes keep a TorchSharp block from being captured as a CUDA graph: a graph replays a fixed sequence of device
/// work, so nothing may synchronize with the host (a value read back to decide shapes or control flow), draw random
/// numbers (their generator state would be frozen into the graph), or branch on data.
/// </summary>
public static class CudaGraphCapture
{
    private static readonly string[] Uncapturable =
    [
        // read a value back to the host, or make a shape from data
        "aten._local_scalar_dense", "aten.item", "aten.nonzero", "aten.masked_select", "aten.unique", "aten._unique",
        "aten.unique_consecutive", "aten.unique_dim", "aten.repeat_interleave.Tensor", "aten.bincount", "aten.histc",
        "aten._assert_async",
        // random numbers
        "aten.rand", "aten.randn", "aten.randint", "aten.rand_like", "aten.randn_like", "aten.randint_like", "aten.randperm",
        "aten.bernoulli", "aten.multinomial", "aten.normal", "aten.uniform", "aten.exponential", "aten.dropout",
        "aten.native_dropout", "aten.rrelu", "aten.cauchy", "aten.geometric", "aten.log_normal", "aten.random",
        // data-dependent control flow
        "torch.ops.higher_order.cond", "torch.ops.higher_order.while_loop", "cond", "while_loop",
    ];

    /// <summary>Null when every node may be captured, else the first that may not and why.</summary>
    public static string? WhyNot(IEnumerable<GraphNode> nodes)
    {
        // A subgraph's nodes run inside their operator's launch sequence too.
        foreach (var node in nodes.WithNested())
        {
            var target = node.Target.StartsWith("torch.ops.", StringComparison.Ordinal) && node.Target.Contains(".aten.", StringComparison.Ordinal)
                ? node.Target["torch.ops.".Length..]
                : node.Target;
            var hit = Uncapturable.FirstOrDefault(u => target == u || target.StartsWith(u + ".", StringComparison.Ordinal));
            if (hit is not null && !IsInferenceDropout(node))
            {
                return $"{node.Target} ({node.DisplayName()}) {Why(hit)}";
            }
        }
        return null;
    }

    /// <summary>Dropout as eval mode exports it (train=False, or p=0) returns its input and draws nothing.</summary>
    private static bool IsInferenceDropout(GraphNode node) =>
        node.Target.Contains("dropout", StringComparison.Ordinal)
        && (node.Inputs.Any(a => a.Name == "train" && a.Value is BoolArg { Value: false })
            || node.Inputs.Any(a => a.Name == "p" && a.Value is FloatArg { Value: 0 }));

    private static string Why(string op) =>
        Array.IndexOf(Uncapturable, op) >= Array.IndexOf(Uncapturable, "torch.ops.higher_order.cond") ? "branches on data"
        : Array.IndexOf(Uncapturable, op) >= Array.IndexOf(Uncapturable, "aten.rand") ? "draws random numbers"
        : "reads a value back to the host";
}
