using ModelBuild.Compiler.Passes;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;
using ModelBuild.Export.Onnx;
using ModelBuild.Export.TorchScript;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Compiler;

/// <summary>
/// Compiles a model file into a validated engine: read, functionalization, lowering check, shape ranges, passes, plan, engine write,
/// then validation of the written engine (restored through <see cref="CompiledModel"/>) against the unoptimized
/// graph interpreted in fp32 on CPU, at min/opt/max and at the cases of a cases file.
/// </summary>
public static class ModelCompiler
{
    public static CompiledEngine Compile(CompileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var file = options.ModelPath;
        var precision = ParsePrecision(options.Precision, file);
        var device = ParseDevice(options.Device, file);
        var cases = options.CasesPath is { } cp ? SafetensorsFile.Read(cp) : null;
        var graph = ModelReader.Read(file);
        if (graph.Source.Format == TorchScriptReader.Format)
        {
            return TorchScriptCompiler.Compile(graph, options, device, precision, cases);
        }
        if (graph.Source.Format == OnnxReader.Format)
        {
            // ONNX is read for inspection (inputs, named dims, opset); its operators are not lowered to kernels.
            throw new ModelBuildException(DiagnosticCodes.OnnxNotCompilable,
                "ONNX models can be inspected but not compiled: compile the torch.export archive (torch.export.save, .pt2) the ONNX file was exported from, or its TorchScript with --shape ranges.",
                file);
        }
        graph = Functionalization.Run(graph, OpKernels.IsSupported, file);
        LoweringCheck.Run(graph, OpKernels.IsSupported, file);
        var ranges = ShapeRangeResolver.Resolve(graph, options.Shapes, file);
        var optimized = Optimizer.Run(graph, device, precision);
        var plan = PlanBuilder.Build(optimized, device);
        var weights = PlanBuilder.Weights(optimized);
        var manifest = ManifestBuilder.Build(options, graph.Name, graph.Source, device, ranges,
            [.. graph.Inputs.Select(i => ManifestBuilder.Tensor(i.Name, i.Meta))],
            [.. graph.Outputs.Select(o => ManifestBuilder.Tensor(o.Name, o.Meta))]);

        var unvalidated = EngineFile.Write(manifest, plan, weights);
        using var engine = CompiledModel.Load(unvalidated, file);
        using var reference = ReferenceInterpreter(graph);
        var validation = new EngineValidator(engine, reference.Run, "reference", options.EffectiveTolerance, file)
            .Validate(ValidationPoints.Of(ranges), graph, cases, options.CasesPath);
        return Finish(manifest with { Validation = validation }, plan, weights, file);
    }

    /// <summary>The engine's final bytes; the manifest is read back from them so that it carries the payload hash.</summary>
    internal static CompiledEngine Finish(EngineManifest manifest, ExecutionPlan plan, IReadOnlyCollection<SafetensorsTensor> weights, string file)
    {
        var bytes = EngineFile.Write(manifest, plan, weights);
        return new CompiledEngine(bytes, EngineFile.Read(bytes, file, null).Manifest);
    }

    /// <summary>The plain interpretation of the unoptimized graph: fp32 weights, CPU, no memory plan, the runtime's kernels.</summary>
    private static GraphExecutor ReferenceInterpreter(ModelGraph graph)
    {
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var w in graph.Weights)
        {
            weights[w.ValueName] = w.ToTensor();
        }
        return new GraphExecutor(PlanBuilder.Build(graph, "cpu", planMemory: false), weights, CPU);
    }

    private static TensorDType ParsePrecision(string precision, string file) => precision switch
    {
        "fp32" => TensorDType.F32,
        "fp16" => TensorDType.F16,
        "bf16" => TensorDType.BF16,
        _ => throw new ModelBuildException(DiagnosticCodes.OptionInvalid, $"--precision '{precision}' is not one of fp32, fp16, bf16.", file),
    };

    private static string ParseDevice(string device, string file)
    {
        if (device is not ("cpu" or "cuda"))
        {
            throw new ModelBuildException(DiagnosticCodes.OptionInvalid, $"--device '{device}' is not one of cpu, cuda.", file);
        }
        if (device == "cuda" && !cuda.is_available())
        {
            throw new ModelBuildException(DiagnosticCodes.DeviceUnavailable,
                "--device cuda: this machine has no CUDA device (or libtorch without CUDA), and validation runs the engine where it compiles. Compile on a CUDA build agent.", file);
        }
        return device;
    }
}
