using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// The plain interpretation of the unoptimized graph that engines are validated against: fp32 weights, CPU, no memory
/// plan, the runtime's TorchSharp kernels. Nodes without a kernel (an operator only ONNX Runtime runs) run in ONNX
/// Runtime, each stretch of them as one block between the TorchSharp ones (on the CPU, the only place ONNX Runtime runs).
/// The eager reference of a reduced-precision engine is the same interpretation of the unoptimized graph lowered to its
/// precision (<see cref="PrecisionLowering"/>) on the engine's device: what PyTorch's eager execution at that precision
/// does there.
/// </summary>
internal sealed class ReferenceInterpreter : IDisposable
{
    private readonly Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);
    private readonly GraphExecutor? _executor;
    private readonly CompiledModel? _mixed;
    private readonly Device _device;

    public ReferenceInterpreter(ModelGraph graph, EngineManifest manifest, string device, string file)
    {
        var allKernels = graph.Nodes.All(n => OpKernels.IsSupported(n.Target));
        _device = allKernels ? new Device(device) : CPU;
        if (allKernels)
        {
            foreach (var w in graph.Weights)
            {
                _weights[w.ValueName] = Load(w);
            }
            var block = PlanBuilder.WholeGraph(graph);
            _executor = new GraphExecutor(block.Nodes!, block.Inputs, block.Outputs, _weights, [], _device);
            return;
        }
        var blocks = Partitioner.Run(graph, [new TorchBackendCompiler(), new OnnxRuntimeBackendCompiler(file)], minBlockSize: 1, []);
        var (plan, tensors) = PlanBuilder.Build(graph, blocks, "cpu");
        _mixed = CompiledModel.Load(EngineFile.Write(manifest with { Blocks = PlanBuilder.Describe(plan) }, plan, tensors), file);
    }

    /// <summary>The outputs, then the new values of the mutated inputs, on the CPU.</summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs) => _executor is null
        ? _mixed!.Run([.. inputs])
        : [.. _executor.Run([.. inputs.Select(i => i.to(_device))]).Select(o => o.cpu())];

    private Tensor Load(Weight weight)
    {
        var host = weight.ToTensor();
        if (_device.type == TorchSharp.DeviceType.CPU)
        {
            return host;
        }
        using (host)
        {
            return host.to(_device);
        }
    }

    public void Dispose()
    {
        foreach (var w in _weights.Values)
        {
            w.Dispose();
        }
        _mixed?.Dispose();
    }
}
