using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;

namespace ModelBuild.Compiler.Backends;

/// <summary>The TorchSharp kernels: every node with a kernel; the block keeps its nodes, the weights they read and its memory plan.</summary>
public sealed class TorchBackendCompiler : IBackendCompiler
{
    /// <inheritdoc/>
    public string Name => "torch";

    /// <inheritdoc/>
    public bool SupportsDevice(string device) => true;

    /// <inheritdoc/>
    public string? Unsupported(GraphNode node, ModelGraph graph)
    {
        // A higher-order operator runs here only when every node of its subgraphs does.
        foreach (var n in new[] { node }.WithNested())
        {
            if (OpKernels.Unsupported(n) is { } why)
            {
                return n == node ? why : $"{n.Target} in its subgraph: {why}";
            }
        }
        return null;
    }

    /// <inheritdoc/>
    public CompiledBlock Compile(BlockGraph block, ModelGraph graph, string device)
    {
        var read = block.Nodes.SelectMany(n => n.Reads()).Concat(block.Outputs).ToHashSet(StringComparer.Ordinal);
        var weights = graph.Weights.Where(w => read.Contains(w.ValueName)).ToList();
        var weightNames = weights.Select(w => w.ValueName).ToList();
        var plan = new PlanBlock(Name, block.Inputs, block.Outputs)
        {
            Nodes = block.Nodes,
            Weights = weightNames,
            FreeAfter = MemoryPlanner.FreeAfter(block.Nodes, block.Inputs, weightNames, block.Outputs),
            OpCount = block.Nodes.Count,
            NotCapturable = CudaGraphCapture.WhyNot(block.Nodes),
        };
        return new CompiledBlock(plan, [.. weights.Select(PlanBuilder.ToSafetensors)]);
    }
}
