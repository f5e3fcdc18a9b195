using System.Diagnostics;
using ModelBuild.Compiler.Backends;
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
using ModelBuild.Runtime.OnnxRuntime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Compiler;

/// <summary>
/// Compiles a model file into a validated engine: read, functionalization, dead-code elimination, lowering check,
/// shape ranges, passes, partitioning into backend blocks, engine write, then validation of the written engine
/// (restored through <see cref="CompiledModel"/>) against the unoptimized graph interpreted in fp32 on CPU, at
/// min/opt/max and at the cases of a cases file; an fp16/bf16 engine within twice the error of the unoptimized graph
/// lowered to its precision and interpreted on its device (<see cref="ValidationCriteria.RelativeTo"/>). With
/// <c>--backend auto</c> every candidate is built and validated and the fastest at <c>opt</c> is kept.
/// </summary>
public static class ModelCompiler
{
    public static CompiledEngine Compile(CompileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var file = options.ModelPath;
        var precision = ParsePrecision(options.Precision, file);
        var device = ParseDevice(options.Device, file);
        var candidates = Candidates(options, device, file);
        var cases = options.CasesPath is { } cp ? SafetensorsFile.Read(cp) : null;
        var graph = ModelReader.Read(file);
        if (graph.Source.Format == TorchScriptReader.Format)
        {
            return TorchScriptCompiler.Compile(graph, options, device, precision, cases);
        }
        if (graph.Source.Format == OnnxReader.Format)
        {
            return OnnxModelCompiler.Compile(graph, options, device, precision, cases);
        }
        graph = Prepare(graph, candidates, file);
        var ranges = ShapeRangeResolver.Resolve(graph, options.Shapes, file);
        var optimized = Optimizer.Run(graph, device, precision);
        var manifest = ManifestBuilder.Build(options, graph.Name, graph.Source, device, ranges,
            [.. graph.Inputs.Select(i => ManifestBuilder.Tensor(i.Name, i.Meta))],
            [.. graph.UserOutputs.Select(o => ManifestBuilder.Tensor(o.Name, o.Meta))]) with { MutatedInputs = graph.MutatedInputs };

        using var reference = new ReferenceInterpreter(graph, manifest, "cpu", file);
        // A reduced-precision engine is also held to eager execution at its precision: the same graph, lowered alone (and
        // its factories' devices moved to the target, which eager on that device needs: an export traced on the CPU
        // records device=cpu on its arange).
        using var eager = precision == TensorDType.F32 ? null
            : new ReferenceInterpreter(PrecisionLowering.Run(DeviceRetargeting.Run(graph, device), precision), manifest, device, file);
        return Assemble(optimized, manifest, candidates, options, reference.Run, "reference", eager is null ? null : eager.Run, ValidationPoints.Of(ranges), graph, cases);
    }

    /// <summary>
    /// The blocks a compile would cut for the last candidate <c>--backend</c> asks for (with auto on the CPU: ONNX Runtime
    /// where nodes lower, TorchSharp for the rest), and why each node the preferred backend does not run stays off it;
    /// nothing is compiled or validated (<c>modelc inspect --partition</c>, <c>--dot</c>).
    /// </summary>
    public static ModelPartition Partition(CompileOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var file = options.ModelPath;
        var precision = ParsePrecision(options.Precision, file);
        var device = ParseDevice(options.Device, file);
        var graph = ModelReader.Read(file);
        if (graph.Source.Format == TorchScriptReader.Format || graph.Source.Format == OnnxReader.Format)
        {
            // Both run whole, as one block: the module's forward, or the ONNX model itself.
            var backend = graph.Source.Format == OnnxReader.Format ? OnnxModelBackendCompiler.BackendName : "torchscript";
            var whole = new BlockGraph(graph.Nodes, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)]);
            return new ModelPartition(graph, backend, [new PartitionBlock(backend, whole)], []);
        }
        var candidate = Candidates(options, device, file)[^1];
        var optimized = Optimizer.Run(Prepare(graph, [candidate], file), device, precision);
        var blocks = Partitioner.Run(optimized, candidate.Backends, options.MinBlockSize, options.TorchExecutedOps);
        var preferred = candidate.Backends[0];
        var notRun = candidate.Backends.Count == 1 ? []
            : optimized.Nodes.Select(n => (Node: n, Reason: preferred.Unsupported(n, optimized))).Where(v => v.Reason is not null)
                .Select(v => new NodeVerdict(v.Node, preferred.Name, v.Reason!)).ToList();
        return new ModelPartition(optimized, candidate.Name, [.. blocks.Select(b => new PartitionBlock(b.Backend.Name, b.Block))], notRun);
    }

    /// <summary>Functionalization, dead-code elimination, and the check that some backend of the candidates runs every node left.</summary>
    private static ModelGraph Prepare(ModelGraph graph, IReadOnlyList<Candidate> candidates, string file)
    {
        var all = candidates.SelectMany(c => c.Backends).Distinct().ToList();
        graph = Functionalization.Run(graph, OpKernels.IsSupported, file);
        // What the program never computes must not block it: dead nodes go before the lowering check.
        graph = DeadCodeElimination.Run(graph);
        LoweringCheck.Run(graph, WhyNoBackendRuns(all, graph), file);
        return graph;
    }

    /// <summary>Null when one of the backends runs the node, else the first (preferred) backend's reason.</summary>
    private static Func<GraphNode, string?> WhyNoBackendRuns(IReadOnlyList<IBackendCompiler> backends, ModelGraph graph) => node =>
    {
        var reasons = backends.Select(b => b.Unsupported(node, graph)).ToList();
        return reasons.Any(r => r is null) ? null : reasons[0];
    };

    /// <summary>
    /// A candidate plan: the backends its partition may use, preferred first, the fallback last; and, where set, the
    /// intra-op threads of its ONNX Runtime blocks (null: one per processor of the machine that runs the engine).
    /// </summary>
    internal sealed record Candidate(string Name, IReadOnlyList<IBackendCompiler> Backends, int? OrtThreads = null);

    /// <summary>
    /// Builds, writes and validates the engine of every candidate; with several, measures the valid ones at opt, taking
    /// turns, and keeps the fastest. The manifest records the blocks, the candidates and their timings. <paramref name="eager"/>, for a
    /// reduced-precision engine, runs its eager reference (see <see cref="EngineValidator"/>).
    /// </summary>
    internal static CompiledEngine Assemble(ModelGraph optimized, EngineManifest manifest, IReadOnlyList<Candidate> candidates, CompileOptions options,
        Func<IReadOnlyList<Tensor>, Tensor[]> reference, string comparedWith, Func<IReadOnlyList<Tensor>, Tensor[]>? eager, IReadOnlyList<(string Name, IReadOnlyDictionary<string, long> Symbols)> points,
        ModelGraph? inputsGraph, SafetensorsFile? cases)
    {
        var file = options.ModelPath;
        var built = new List<(Candidate Candidate, ExecutionPlan Plan, IReadOnlyCollection<SafetensorsTensor> Tensors, EngineManifest Manifest, CompiledModel Engine)>();
        ModelBuildException? firstFailure = null;
        var partitions = new HashSet<string>(StringComparer.Ordinal);
        // Each partition is compiled once; a candidate that differs only in its blocks' threads reuses the compiled plan.
        var compiled = new Dictionary<string, (ExecutionPlan Plan, IReadOnlyCollection<SafetensorsTensor> Tensors)>(StringComparer.Ordinal);
        try
        {
            foreach (var candidate in candidates)
            {
                CompiledModel? engine = null;
                try
                {
                    // With auto, a model some of whose nodes only ONNX Runtime runs has no TorchSharp-only candidate.
                    LoweringCheck.Run(optimized, WhyNoBackendRuns(candidate.Backends, optimized), file);
                    var blocks = Partitioner.Run(optimized, candidate.Backends, options.MinBlockSize, options.TorchExecutedOps);
                    var partition = string.Join(",", blocks.Select(b => $"{b.Backend.Name}:{b.Block.Nodes.Count}"));
                    var threaded = candidate.OrtThreads is not null && blocks.Any(b => b.Backend.Name == OnnxRuntimeBackend.BackendName);
                    // A candidate whose plan another already has (nothing lowered, so no ONNX Runtime threads to set) would only be measured twice.
                    if (!partitions.Add(threaded ? $"{partition};threads={candidate.OrtThreads}" : partition))
                    {
                        continue;
                    }
                    if (!compiled.TryGetValue(partition, out var build))
                    {
                        compiled[partition] = build = PlanBuilder.Build(optimized, blocks, manifest.Target.Device);
                    }
                    var (plan, tensors) = threaded ? (WithOrtThreads(build.Plan, candidate.OrtThreads), build.Tensors) : build;
                    var described = manifest with { Blocks = PlanBuilder.Describe(plan) };
                    engine = CompiledModel.Load(EngineFile.Write(described, plan, tensors), file);
                    var validation = new EngineValidator(engine, reference, comparedWith, eager, options.Criteria, file)
                        .Validate(points, inputsGraph, cases, options.CasesPath);
                    built.Add((candidate, plan, tensors, described with { Validation = validation }, engine));
                }
                catch (ModelBuildException e) when (candidates.Count > 1)
                {
                    // A candidate that fails to compile, load or validate is not kept; the others still compete.
                    engine?.Dispose();
                    firstFailure ??= e;
                }
                catch
                {
                    engine?.Dispose();
                    throw;
                }
            }
            if (built.Count == 0)
            {
                throw firstFailure!;
            }
            double?[] optUs = candidates.Count > 1 ? [.. MedianLatencies([.. built.Select(b => b.Engine)], points, inputsGraph)] : [null];
            var chosen = built[Array.IndexOf(optUs, optUs.Min())];
            var selection = new ManifestBackendSelection(options.Backend, chosen.Candidate.Name,
                [.. built.Select((b, i) => new ManifestBackendCandidate(b.Candidate.Name, optUs[i], [.. b.Plan.Blocks.Select(x => x.Backend)]))]);
            return Finish(chosen.Manifest with { BackendSelection = selection }, chosen.Plan, chosen.Tensors, file);
        }
        finally
        {
            foreach (var b in built)
            {
                b.Engine.Dispose();
            }
        }
    }

    private static ExecutionPlan WithOrtThreads(ExecutionPlan plan, int? threads) => plan with
    {
        Blocks = [.. plan.Blocks.Select(b => b.Backend == OnnxRuntimeBackend.BackendName ? b with { Threads = threads } : b)],
    };

    /// <summary>The engine's final bytes; the manifest is read back from them so that it carries the payload hash.</summary>
    internal static CompiledEngine Finish(EngineManifest manifest, ExecutionPlan plan, IReadOnlyCollection<SafetensorsTensor> tensors, string file)
    {
        var bytes = EngineFile.Write(manifest, plan, tensors);
        return new CompiledEngine(bytes, EngineFile.Read(bytes, file, null).Manifest);
    }

    /// <summary>
    /// The candidates <c>--backend</c> asks for: torch (TorchSharp alone), onnxruntime (ONNX Runtime where nodes lower,
    /// TorchSharp for the rest; CPU only), auto (on the CPU both, and the onnxruntime plan on one intra-op thread where
    /// this machine has more processors, the fastest kept; torch on CUDA). The one-thread plan is there because a pool's
    /// wake-ups can cost more than splitting the work saves: measured on a 2-core machine, PyTorch's ONNX export of a
    /// small GPT-Neo ran in 96 us on one thread and 188 us on two (docs/benchmarks.md).
    /// </summary>
    internal static IReadOnlyList<Candidate> Candidates(CompileOptions options, string device, string file)
    {
        var torch = new Candidate("torch", [new TorchBackendCompiler()]);
        var onnx = new Candidate("onnxruntime", [new OnnxRuntimeBackendCompiler(file), new TorchBackendCompiler()]);
        Candidate[] onnxOneThread = Environment.ProcessorCount > 1 ? [onnx with { Name = "onnxruntime-1thread", OrtThreads = 1 }] : [];
        return options.Backend switch
        {
            "torch" => [torch],
            "onnxruntime" when device != "cpu" => throw new ModelBuildException(DiagnosticCodes.OnnxRuntimeDeviceUnsupported,
                $"--backend onnxruntime runs on the CPU only; for --device {device} use --backend torch (or auto).", file),
            "onnxruntime" => [onnx],
            "auto" => device == "cpu" ? [torch, onnx, .. onnxOneThread] : [torch],
            _ => throw new ModelBuildException(DiagnosticCodes.OptionInvalid, $"--backend '{options.Backend}' is not one of auto, torch, onnxruntime.", file),
        };
    }

    /// <summary>
    /// Each engine's median latency at the opt point (the middle validation point), in microseconds, through the
    /// host-memory API that every app has (whatever backends its engines use). The engines take turns, five rounds of
    /// at least one run and 80 ms each, after a pause: timed one after another, each candidate saw the build machine
    /// in another state (other work on the host, pools of the previous one spinning), and on a 2-core VM the same
    /// two-thread candidate measured 430 us in one compile and 796 us in the next, deciding the choice.
    /// </summary>
    private static double[] MedianLatencies(IReadOnlyList<CompiledModel> engines, IReadOnlyList<(string Name, IReadOnlyDictionary<string, long> Symbols)> points, ModelGraph? graph)
    {
        const int Rounds = 5;
        var opt = points[points.Count > 1 ? 1 : 0].Symbols;
        HostTensor[] inputs;
        using (var scope = NewDisposeScope())
        {
            inputs = [.. CaseInputs.Generate(engines[0].Manifest.Inputs, opt, graph, 0x0B7).Select(t => HostTensor.FromBytes(t.dtype.ToTensorDType(), t.shape, t.bytes.ToArray()))];
        }
        foreach (var engine in engines)
        {
            for (var i = 0; i < 3; i++)
            {
                DisposeAll(engine.Run(inputs));
            }
        }
        var samples = engines.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            for (var k = 0; k < engines.Count; k++)
            {
                var e = (round + k) % engines.Count;
                Thread.Sleep(20);
                var turn = Stopwatch.StartNew();
                var turnSamples = 0;
                do
                {
                    var start = Stopwatch.GetTimestamp();
                    var outputs = engines[e].Run(inputs);
                    samples[e].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    DisposeAll(outputs);
                    turnSamples++;
                }
                while (turnSamples < 2000 && turn.Elapsed.TotalMilliseconds < 80);
            }
        }
        return [.. samples.Select(s => s.Order().ElementAt(s.Count / 2))];
    }

    private static void DisposeAll(HostTensor[] tensors)
    {
        foreach (var t in tensors)
        {
            t.Dispose();
        }
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
