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
/// Runtime, each stretch of them as one block between the TorchSharp ones.
/// </summary>
internal sealed class ReferenceInterpreter : IDisposable
{
    private readonly Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);
    private readonly GraphExecutor? _executor;
    private readonly CompiledModel? _mixed;

    public ReferenceInterpreter(ModelGraph graph, EngineManifest manifest, string file)
    {
        if (graph.Nodes.All(n => OpKernels.IsSupported(n.Target)))
        {
            foreach (var w in graph.Weights)
            {
                _weights[w.ValueName] = w.ToTensor();
            }
            var block = PlanBuilder.WholeGraph(graph);
            _executor = new GraphExecutor(block.Nodes!, block.Inputs, block.Outputs, _weights, [], CPU);
            return;
        }
        var blocks = Partitioner.Run(graph, [new TorchBackendCompiler(), new OnnxRuntimeBackendCompiler(file)], minBlockSize: 1, []);
        var (plan, tensors) = PlanBuilder.Build(graph, blocks, "cpu");
        _mixed = CompiledModel.Load(EngineFile.Write(manifest with { Blocks = PlanBuilder.Describe(plan) }, plan, tensors), file);
    }

    public Tensor[] Run(IReadOnlyList<Tensor> inputs) => _executor?.Run([.. inputs]) ?? _mixed!.Run([.. inputs]);

    public void Dispose()
    {
        foreach (var w in _weights.Values)
        {
            w.Dispose();
        }
        _mixed?.Dispose();
    }
}
