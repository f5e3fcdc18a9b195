using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Benchmarks;

/// <summary>
/// The executor's cost per op over bare TorchSharp calls: a plan of N one-element adds against the same N adds
/// written as a C# loop. The difference over N is what interpreting the plan costs per node.
/// </summary>
internal static class ExecutorOverhead
{
    public static double MeasureMicrosecondsPerOp(int nodes)
    {
        var (chain, free) = ChainOfAdds(nodes);
        using var x = zeros(1);
        using var w = ones(1);
        var executor = new GraphExecutor(chain, ["x"], [$"v{nodes - 1}"], new Dictionary<string, Tensor> { ["w"] = w }, free, CPU);
        var viaExecutor = Timing.MedianMicroseconds(() =>
        {
            foreach (var t in executor.Run([x]))
            {
                t.Dispose();
            }
        });
        var bare = Timing.MedianMicroseconds(() =>
        {
            var t = x.add(w);
            for (var i = 1; i < nodes; i++)
            {
                var next = t.add(w);
                t.Dispose();
                t = next;
            }
            t.Dispose();
        });
        return (viaExecutor - bare) / nodes;
    }

    private static (List<GraphNode> Nodes, List<IReadOnlyList<string>> FreeAfter) ChainOfAdds(int nodes)
    {
        var list = new List<GraphNode>();
        var free = new List<IReadOnlyList<string>>();
        for (var i = 0; i < nodes; i++)
        {
            var input = i == 0 ? "x" : $"v{i - 1}";
            list.Add(new GraphNode("torch.ops.aten.add.Tensor",
                [new NamedArgument("self", new TensorArg(input)), new NamedArgument("other", new TensorArg("w"))],
                [new TensorArg($"v{i}")]));
            free.Add(i == 0 ? [] : [input]);
        }
        return (list, free);
    }
}
