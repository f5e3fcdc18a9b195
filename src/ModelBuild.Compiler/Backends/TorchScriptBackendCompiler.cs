using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler.Backends;

/// <summary>TorchScript modules, which carry no graph to lower: the one node that stands for the module's forward, whose bytes become the block's payload.</summary>
public sealed class TorchScriptBackendCompiler : IBackendCompiler
{
    /// <summary>The node a TorchScript model's graph consists of; its weight <see cref="ModuleWeight"/> holds the module's bytes.</summary>
    public const string ForwardTarget = "modelbuild.torchscript.forward";

    /// <summary>The engine tensor holding the module (torch.jit.save bytes).</summary>
    public const string ModuleWeight = "torchscript_module";

    /// <inheritdoc/>
    public string Name => "torchscript";

    /// <inheritdoc/>
    public bool SupportsDevice(string device) => true;

    /// <inheritdoc/>
    public string? Unsupported(GraphNode node, ModelGraph graph) => node.Target == ForwardTarget ? null : "not a TorchScript module";

    /// <inheritdoc/>
    public CompiledBlock Compile(BlockGraph block, ModelGraph graph, string device)
    {
        var module = graph.Weights.Single(w => w.ValueName == ModuleWeight);
        var bytes = module.Read();
        return new CompiledBlock(new PlanBlock(Name, block.Inputs, block.Outputs) { Payload = ModuleWeight, OpCount = 1 },
            [new SafetensorsTensor(ModuleWeight, TensorDType.U8, [bytes.Length], bytes)]);
    }
}
