using System.Security.Cryptography;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Lowering.Onnx;

namespace ModelBuild.Compiler.Backends;

/// <summary>
/// ONNX Runtime on the CPU: a node runs here when it lowers to ONNX (<see cref="OnnxLowering"/>); a block becomes an
/// ONNX model with its weights as initializers, optimized offline, kept as the block's payload.
/// </summary>
public sealed class OnnxRuntimeBackendCompiler(string file) : IBackendCompiler
{
    /// <inheritdoc/>
    public string Name => "onnxruntime";

    /// <inheritdoc/>
    public bool SupportsDevice(string device) => device == "cpu";

    /// <inheritdoc/>
    public string? Unsupported(GraphNode node, ModelGraph graph) => OnnxLowering.Unsupported(node, graph);

    /// <inheritdoc/>
    public CompiledBlock Compile(BlockGraph block, ModelGraph graph, string device)
    {
        ArgumentNullException.ThrowIfNull(block);
        var model = OnnxOfflineOptimizer.Optimize(OnnxLowering.Lower(block.Nodes, block.Inputs, block.Outputs, graph), file);
        return Payload(Name, block.Inputs, block.Outputs, model, block.Nodes.Count);
    }

    /// <summary>A block whose payload is <paramref name="model"/>, named by its content (equal blocks share one tensor).</summary>
    internal static CompiledBlock Payload(string backend, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, byte[] model, int opCount)
    {
        var name = $"onnx_{Convert.ToHexStringLower(SHA256.HashData(model))[..16]}";
        return new CompiledBlock(new PlanBlock(backend, inputs, outputs) { Payload = name, OpCount = opCount },
            [new SafetensorsTensor(name, TensorDType.U8, [model.Length], model)]);
    }
}
