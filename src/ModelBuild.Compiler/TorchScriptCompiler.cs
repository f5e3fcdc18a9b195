using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Compiler.Backends;
using ModelBuild.Runtime.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Compiler;

/// <summary>
/// TorchScript (torch.jit.save) carries no graph ModelBuild lowers and no shape ranges. Its inputs, their order and
/// (when traced) dtypes and example shapes come from the export front end. It compiles when <c>--shape</c> gives the
/// ranges: a dim with a range gets a symbol (<c>x_0</c>); a dim without one is static at the traced example's size;
/// without an example every dim needs a <c>--shape</c> (one size for a static dim). The engine holds the module's
/// bytes and runs its forward. Validation compares the engine with the same module run
/// directly (which proves the engine's round trip and range checks, not the model) and with the cases file.
/// </summary>
internal static class TorchScriptCompiler
{
    public static CompiledEngine Compile(ModelGraph graph, CompileOptions options, string device, TensorDType precision, SafetensorsFile? cases)
    {
        var file = options.ModelPath;
        if (precision != TensorDType.F32)
        {
            throw new ModelBuildException(DiagnosticCodes.OptionInvalid, $"--precision {options.Precision}: a TorchScript model compiles at fp32 only; export it with torch.export to lower its precision.", file);
        }
        var (inputs, symbols) = Inputs(graph, options.Shapes, cases, options.CasesPath, file);
        var ranges = new ShapeRanges(symbols, []);
        var moduleBytes = File.ReadAllBytes(file);

        using var module = jit.load(file, device == "cuda" ? DeviceType.CUDA : DeviceType.CPU);
        module.eval();
        Tensor[] Reference(IReadOnlyList<Tensor> xs)
        {
            using var noGrad = no_grad();
            return TorchScriptOutputs.Flatten(module.forward([.. xs]));
        }
        var points = ValidationPoints.Of(ranges);
        ManifestTensor[] outputs;
        using (var scope = NewDisposeScope())
        {
            var probe = Reference(CaseInputs.Generate(inputs, points[points.Count > 1 ? 1 : 0].Symbols, null, 0));
            outputs = [.. probe.Select((t, j) => new ManifestTensor($"output_{j}", t.dtype.ToTensorDType().ToString(), [.. t.shape.Select(_ => "?")]))];
        }
        var manifest = ManifestBuilder.Build(options, "", graph.Source, device, ranges, inputs, outputs);
        var forward = new GraphNode(TorchScriptBackendCompiler.ForwardTarget,
            [.. inputs.Select(i => new NamedArgument(i.Name, new TensorArg(i.Name)))], [.. outputs.Select(o => new TensorArg(o.Name))]);
        var moduleWeight = new Weight(TorchScriptBackendCompiler.ModuleWeight, TorchScriptBackendCompiler.ModuleWeight, WeightKind.Constant,
            new TensorMeta(TensorDType.U8, [Dim.Of(moduleBytes.LongLength)]), () => moduleBytes);
        var moduleGraph = new ModelGraph
        {
            Name = graph.Name,
            Source = graph.Source,
            Inputs = graph.Inputs,
            Outputs = [.. outputs.Select(o => new GraphValue(o.Name, new TensorMeta(TensorDType.F32, [])))],
            Nodes = [forward],
            Weights = [moduleWeight],
            Values = new Dictionary<string, TensorMeta>(),
            Symbols = new Dictionary<string, SymbolRange>(),
            Relations = [],
            RangesFromUser = true,
        };
        var candidate = new ModelCompiler.Candidate("torchscript", [new TorchScriptBackendCompiler()]);
        return ModelCompiler.Assemble(moduleGraph, manifest, [candidate], options with { Backend = "torchscript" }, Reference, "torchscript", null, points, null, cases);
    }

    /// <summary>The inputs of the forward signature with their dims from the options and the traced example.</summary>
    private static (ManifestTensor[] Inputs, Dictionary<string, ManifestSymbol> Symbols) Inputs(
        ModelGraph graph, IReadOnlyList<ShapeOption> shapes, SafetensorsFile? cases, string? casesPath, string file)
    {
        if (shapes.Count == 0)
        {
            throw new ModelBuildException(DiagnosticCodes.TorchScriptNeedsShapes,
                $"a TorchScript model carries no shape ranges: give them with --shape <input>:<dim>=<min>..<opt>..<max> (inputs: {string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}'"))}).", file);
        }
        foreach (var unknown in shapes.Where(s => graph.Inputs.All(i => i.Name != s.Input)))
        {
            throw new ModelBuildException(DiagnosticCodes.ShapeOptionUnknownDim,
                $"--shape {unknown} names input '{unknown.Input}', but the TorchScript forward takes {string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}'"))}.", file);
        }
        var caseDTypes = cases is null ? [] : CasesFile.Read(cases, casesPath!).First().Inputs.Select(n => cases.Tensors[n].DType).ToArray();
        var symbols = new Dictionary<string, ManifestSymbol>(StringComparer.Ordinal);
        var inputs = new List<ManifestTensor>();
        for (var i = 0; i < graph.Inputs.Count; i++)
        {
            var name = graph.Inputs[i].Name;
            var example = graph.ExampleInputShapes is { } ex && i < ex.Count ? ex[i] : null;
            var byDim = new Dictionary<int, ShapeOption>();
            foreach (var s in shapes.Where(s => s.Input == name))
            {
                if (!byDim.TryAdd(s.Dim, s))
                {
                    throw new ModelBuildException(DiagnosticCodes.ShapeRangeConflict, $"--shape {byDim[s.Dim]} and --shape {s} both range input '{name}' dim {s.Dim}; give it once.", file);
                }
            }
            var rank = example?.Count ?? (byDim.Count == 0 ? 0 : byDim.Keys.Max() + 1);
            var missing = Enumerable.Range(0, rank).Where(d => !byDim.ContainsKey(d)).ToList();
            if (byDim.Keys.Any(d => d >= rank) || (example is null && (missing.Count > 0 || rank == 0)))
            {
                throw new ModelBuildException(DiagnosticCodes.TorchScriptNeedsShapes, example is null
                    ? $"input '{name}' of the TorchScript model has no traced example, so every one of its dims needs a --shape (one size for a static dim){(rank > 0 ? $"; dims {string.Join(", ", missing)} are missing" : "")}."
                    : $"input '{name}' has {rank} dims (traced example [{string.Join(", ", example)}]); --shape names dim {byDim.Keys.Max()}.", file);
            }
            var dims = new List<string>();
            for (var d = 0; d < rank; d++)
            {
                if (!byDim.TryGetValue(d, out var s) || s.Min == s.Max)
                {
                    dims.Add((s?.Min ?? example![d]).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    continue;
                }
                var symbol = $"{SymbolSafe(name)}_{d}";
                var opt = s.Opt ?? (example is not null && example[d] >= s.Min && example[d] <= s.Max ? example[d] : s.Min);
                symbols[symbol] = new ManifestSymbol(s.Min, opt, s.Max);
                dims.Add(symbol);
            }
            var dtype = graph.ExampleInputShapes is not null ? graph.Inputs[i].Meta.DType : i < caseDTypes.Length ? caseDTypes[i] : graph.Inputs[i].Meta.DType;
            inputs.Add(new ManifestTensor(name, dtype.ToString(), dims));
        }
        return ([.. inputs], symbols);
    }

    private static string SymbolSafe(string name) =>
        new([.. (char.IsLetter(name[0]) ? name : "i" + name).Select(c => char.IsLetterOrDigit(c) ? c : '_')]);
}
