using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler;

/// <summary>A partitioned graph as the runtime runs it: the plan, the engine tensors its blocks name, and the manifest's view of the blocks.</summary>
public static class PlanBuilder
{
    public static (ExecutionPlan Plan, IReadOnlyCollection<SafetensorsTensor> Tensors) Build(
        ModelGraph graph, IReadOnlyList<(IBackendCompiler Backend, BlockGraph Block)> blocks, string device)
    {
        var compiled = blocks.Select(b => b.Backend.Compile(b.Block, graph, device)).ToList();
        var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (var tensor in compiled.SelectMany(c => c.Tensors))
        {
            tensors.TryAdd(tensor.Name, tensor);
        }
        var plan = new ExecutionPlan([.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)], [.. compiled.Select(c => c.Block)]) { Device = device };
        return (plan, tensors.Values);
    }

    /// <summary>One block running the whole graph on TorchSharp with no memory plan: the reference interpretation.</summary>
    public static PlanBlock WholeGraph(ModelGraph graph) =>
        new("torch", [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)])
        {
            Nodes = graph.Nodes,
            Weights = [.. graph.Weights.Select(w => w.ValueName)],
        };

    /// <summary>The manifest's summary of the plan's blocks.</summary>
    public static IReadOnlyList<ManifestBlock> Describe(ExecutionPlan plan) =>
        [.. plan.Blocks.Select(b => new ManifestBlock(b.Backend, b.OpCount, b.Inputs, b.Outputs) { NotCapturable = b.NotCapturable })];

    public static SafetensorsTensor ToSafetensors(Weight w) => new(w.ValueName, w.Meta.DType, w.Meta.StaticShape(), w.Read());
}
