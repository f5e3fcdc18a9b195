using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler.Backends;

/// <summary>
/// The compile-time half of an execution backend (ONNX Runtime's GetCapability/Compile, Torch-TensorRT's
/// is_node_supported): it says which nodes it can run, one node at a time, and turns a block of nodes into what the
/// engine keeps for it. Its run-time half is the <c>IExecutionBackend</c> of the same name in ModelBuild.Runtime.*.
/// </summary>
public interface IBackendCompiler
{
    /// <summary>The name plans use for it: torch, torchscript, onnxruntime.</summary>
    string Name { get; }

    /// <summary>Whether it can run on <paramref name="device"/> (cpu or cuda).</summary>
    bool SupportsDevice(string device);

    /// <summary>Null when the backend can run <paramref name="node"/> of <paramref name="graph"/>, else why not (shown by inspection).</summary>
    string? Unsupported(GraphNode node, ModelGraph graph);

    /// <summary>What the engine keeps for <paramref name="block"/>: the plan's block and the tensors it names.</summary>
    CompiledBlock Compile(BlockGraph block, ModelGraph graph, string device);
}

/// <summary>A block of nodes as the partitioner cut it: the nodes in order, the values it reads from earlier blocks or the model's inputs, and the values later blocks or the outputs read from it.</summary>
public sealed record BlockGraph(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>A compiled block and the engine tensors it needs (weights, payloads); tensors of the same name are the same tensor.</summary>
public sealed record CompiledBlock(PlanBlock Block, IReadOnlyList<SafetensorsTensor> Tensors);
