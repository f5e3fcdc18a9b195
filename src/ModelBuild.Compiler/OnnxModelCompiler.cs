using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Lowering.Onnx;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler;

/// <summary>
/// An ONNX model compiles into one ONNX Runtime block that holds the model, optimized offline. ONNX keeps no ranges:
/// every named dim of the inputs needs a <c>--shape</c>. Validation compares the engine with the model as given, run
/// directly in ONNX Runtime (which proves the offline optimization and the range checks, not the model), and with the
/// cases file.
/// </summary>
internal static class OnnxModelCompiler
{
    public static CompiledEngine Compile(ModelGraph graph, CompileOptions options, string device, TensorDType precision, SafetensorsFile? cases)
    {
        var file = options.ModelPath;
        if (device != "cpu")
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxRuntimeDeviceUnsupported,
                $"an ONNX model runs on ONNX Runtime, which ModelBuild runs on the CPU only; compile it with --device cpu, or compile the PyTorch archive for {device}.", file);
        }
        if (precision != TensorDType.F32 || options.Backend == "torch")
        {
            throw new ModelBuildException(DiagnosticCodes.OptionInvalid,
                $"an ONNX model compiles as it is: at fp32 (not {options.Precision}) on the onnxruntime backend (not {options.Backend}); lower its precision or change backends from the PyTorch archive instead.", file);
        }
        RequireRanges(graph, options.Shapes, file);
        var ranges = ShapeRangeResolver.Resolve(graph, options.Shapes, file);
        var manifest = ManifestBuilder.Build(options, graph.Name, graph.Source, device, ranges,
            [.. graph.Inputs.Select(i => ManifestBuilder.Tensor(i.Name, i.Meta))],
            [.. graph.Outputs.Select(o => ManifestBuilder.Tensor(o.Name, o.Meta))]);
        var model = File.ReadAllBytes(file);
        var plan = new ExecutionPlan([.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)],
            [new PlanBlock(OnnxModelBackendCompiler.BackendName, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)])
            {
                Payload = OnnxModelBackendCompiler.OriginalPayload,
                OpCount = graph.Nodes.Count,
            }]);
        // The reference: the model as given, in ONNX Runtime with its default optimizations, as an app would run it.
        using var reference = CompiledModel.Load(
            EngineFile.Write(manifest, plan, [new SafetensorsTensor(OnnxModelBackendCompiler.OriginalPayload, TensorDType.U8, [model.Length], model)]), file);
        Tensor[] Reference(IReadOnlyList<Tensor> inputs) => reference.Run([.. inputs]);
        var candidate = new ModelCompiler.Candidate("onnxruntime", [new OnnxModelBackendCompiler(model, file)]);
        return ModelCompiler.Assemble(graph, manifest, [candidate], options with { Backend = "onnxruntime" }, Reference, "onnxruntime", null,
            ValidationPoints.Of(ranges), null, cases);
    }

    /// <summary>Every symbol of the inputs' dims must be ranged by a --shape option; the error names the first dim without one.</summary>
    private static void RequireRanges(ModelGraph graph, IReadOnlyList<ShapeOption> shapes, string file)
    {
        var ranged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in shapes)
        {
            var input = graph.Inputs.FirstOrDefault(i => i.Name == option.Input);
            if (input is not null && option.Dim < input.Meta.Rank && input.Meta.Sizes[option.Dim].Expr is { } expr)
            {
                ranged.UnionWith(SymExpr.Parse(expr).Symbols);
            }
        }
        foreach (var input in graph.Inputs)
        {
            for (var d = 0; d < input.Meta.Rank; d++)
            {
                if (input.Meta.Sizes[d].Expr is { } expr && SymExpr.Parse(expr).Symbols.FirstOrDefault(s => !ranged.Contains(s)) is { } missing)
                {
                    throw new ModelBuildException(DiagnosticCodes.OnnxDimWithoutRange,
                        $"input '{input.Name}' dim {d} is the named dim '{expr}', and an ONNX model keeps no ranges: give one with --shape {input.Name}:{d}=<min>..<opt>..<max> (symbol {missing}; item metadata Shapes=\"{input.Name}:{d}=<min>..<opt>..<max>\").", file);
                }
            }
        }
    }
}

/// <summary>The whole ONNX model as one block: its nodes are ONNX's already, and the payload is the model optimized offline.</summary>
internal sealed class OnnxModelBackendCompiler(byte[] model, string file) : IBackendCompiler
{
    public const string BackendName = "onnxruntime";

    /// <summary>The engine tensor of the reference engine, which holds the model as given.</summary>
    public const string OriginalPayload = "onnx_model";

    public string Name => BackendName;

    public bool SupportsDevice(string device) => device == "cpu";

    public string? Unsupported(GraphNode node, ModelGraph graph) => null;

    public CompiledBlock Compile(BlockGraph block, ModelGraph graph, string device) =>
        OnnxRuntimeBackendCompiler.Payload(Name, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)],
            OnnxOfflineOptimizer.Optimize(model, file), graph.Nodes.Count);
}
