using System.IO.Compression;
using System.Security.Cryptography;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Compiler;

/// <summary>
/// TorchScript (torch.jit.save) carries no graph ModelBuild lowers and no shape ranges. It compiles when
/// <c>--shape</c> gives every dim of every input (a single size for a static dim); inputs are taken in the order the
/// options first name them, with the dtypes of the cases file's inputs when one is given, else F32. The engine
/// holds the module's bytes and runs its forward. Validation compares the engine with the same module run
/// directly (which proves the engine's round trip and range checks, not the model) and with the cases file.
/// </summary>
internal static class TorchScriptCompiler
{
    public static bool Recognizes(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return zip.Entries.Any(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                && zip.Entries.Any(e => e.FullName.Contains("/code/", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static CompiledEngine Compile(CompileOptions options, string device, TensorDType precision, SafetensorsFile? cases)
    {
        var file = options.ModelPath;
        if (precision != TensorDType.F32)
        {
            throw new ModelBuildException(DiagnosticCodes.OptionInvalid, $"--precision {options.Precision}: a TorchScript model compiles at fp32 only; export it with torch.export to lower its precision.", file);
        }
        var (inputs, symbols) = Inputs(options.Shapes, cases, options.CasesPath, file);
        var ranges = new ShapeRanges(symbols, []);
        var moduleBytes = File.ReadAllBytes(file);
        var sha = Convert.ToHexStringLower(SHA256.HashData(moduleBytes));

        using var module = jit.load(file, device == "cuda" ? DeviceType.CUDA : DeviceType.CPU);
        module.eval();
        Tensor[] Reference(IReadOnlyList<Tensor> xs)
        {
            using var noGrad = no_grad();
            return Outputs(module.forward([.. xs]));
        }
        var points = ValidationPoints.Of(ranges);
        ManifestTensor[] outputs;
        using (var scope = NewDisposeScope())
        {
            var probe = Reference(CaseInputs.Generate(inputs, points[points.Count > 1 ? 1 : 0].Symbols, null, 0));
            outputs = [.. probe.Select((t, j) => new ManifestTensor($"output_{j}", t.dtype.ToTensorDType().ToString(), [.. t.shape.Select(_ => "?")]))];
        }
        var plan = TorchScriptPlan.Create([.. inputs.Select(i => i.Name)], [.. outputs.Select(o => o.Name)], device);
        IReadOnlyCollection<SafetensorsTensor> weights = [new SafetensorsTensor(TorchScriptPlan.ModuleWeight, TensorDType.U8, [moduleBytes.LongLength], moduleBytes)];
        var manifest = ManifestBuilder.Build(options, "", new SourceInfo("torchscript", file, sha, null, null), device, ranges, inputs, outputs);

        using var engine = CompiledModel.Load(EngineFile.Write(manifest, plan, weights), file);
        var validation = new EngineValidator(engine, Reference, "torchscript", options.EffectiveTolerance, file)
            .Validate(points, null, cases, options.CasesPath);
        return ModelCompiler.Finish(manifest with { Validation = validation }, plan, weights, file);
    }

    private static Tensor[] Outputs(object result) => result switch
    {
        Tensor t => [t],
        Tensor[] ts => ts,
        System.Runtime.CompilerServices.ITuple tuple => [.. Enumerable.Range(0, tuple.Length).Select(i => (Tensor)tuple[i]!)],
        _ => throw new NotSupportedException($"the TorchScript module returned {result?.GetType().Name ?? "null"}; ModelBuild supports a tensor, a tuple or a list of tensors."),
    };

    /// <summary>The inputs from the options: a symbol per ranged dim (<c>x_0</c>), a static size per single-size dim.</summary>
    private static (ManifestTensor[] Inputs, Dictionary<string, ManifestSymbol> Symbols) Inputs(IReadOnlyList<ShapeOption> shapes, SafetensorsFile? cases, string? casesPath, string file)
    {
        if (shapes.Count == 0)
        {
            throw new ModelBuildException(DiagnosticCodes.TorchScriptNeedsShapes,
                "a TorchScript model carries no shapes or ranges: give every dim of every input with --shape <input>:<dim>=<min>..<opt>..<max> (one size for a static dim, e.g. x:1=32).", file);
        }
        var dtypes = cases is null ? [] : CasesFile.Read(cases, casesPath!).First().Inputs.Select(n => cases.Tensors[n].DType.ToString()).ToArray();
        var symbols = new Dictionary<string, ManifestSymbol>(StringComparer.Ordinal);
        var inputs = new List<ManifestTensor>();
        foreach (var group in shapes.GroupBy(s => s.Input, StringComparer.Ordinal))
        {
            var byDim = group.ToDictionary(s => s.Dim);
            var rank = byDim.Keys.Max() + 1;
            var missing = Enumerable.Range(0, rank).Where(d => !byDim.ContainsKey(d)).ToList();
            if (missing.Count > 0 || byDim.Count != group.Count())
            {
                throw new ModelBuildException(DiagnosticCodes.TorchScriptNeedsShapes,
                    $"input '{group.Key}' of the TorchScript model needs exactly one --shape for each of its dims 0..{rank - 1}; {(missing.Count > 0 ? $"dims {string.Join(", ", missing)} are missing" : "a dim is given twice")}.", file);
            }
            var dims = new List<string>();
            for (var d = 0; d < rank; d++)
            {
                var s = byDim[d];
                if (s.Min == s.Max)
                {
                    dims.Add(s.Min.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    continue;
                }
                var symbol = $"{SymbolSafe(group.Key)}_{d}";
                symbols[symbol] = new ManifestSymbol(s.Min, s.Opt ?? s.Min, s.Max);
                dims.Add(symbol);
            }
            inputs.Add(new ManifestTensor(group.Key, inputs.Count < dtypes.Length ? dtypes[inputs.Count] : "F32", dims));
        }
        return ([.. inputs], symbols);
    }

    private static string SymbolSafe(string name) =>
        new([.. (char.IsLetter(name[0]) ? name : "i" + name).Select(c => char.IsLetterOrDigit(c) ? c : '_')]);
}
