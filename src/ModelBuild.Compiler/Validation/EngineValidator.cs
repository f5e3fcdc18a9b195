using System.Globalization;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// Validation as part of compiling (DESIGN decision 6): the engine, restored through <see cref="CompiledModel"/>,
/// runs at every validation point against a reference, and at every case of a cases file against its expected
/// outputs. Beyond tolerance the compile fails (MB3001) with the numbers of every failing case.
/// </summary>
public sealed class EngineValidator(CompiledModel engine, Func<IReadOnlyList<Tensor>, Tensor[]> reference, string comparedWith, double tolerance, string file)
{
    public IReadOnlyList<ManifestValidationCase> Validate(
        IReadOnlyList<(string Name, IReadOnlyDictionary<string, long> Symbols)> points, ModelGraph? graph, SafetensorsFile? cases, string? casesPath)
    {
        var results = new List<(ManifestValidationCase Case, bool Passed)>();
        var seed = 0x5EED;
        foreach (var (name, symbols) in points)
        {
            using var scope = NewDisposeScope();
            var inputs = CaseInputs.Generate(engine.Manifest.Inputs, symbols, graph, seed++);
            var expected = Run(name, () => reference(inputs), "the reference");
            results.Add(Compare(name, symbols, inputs, expected, comparedWith));
        }
        if (cases is not null)
        {
            foreach (var c in CasesFile.Read(cases, casesPath!))
            {
                using var scope = NewDisposeScope();
                var inputs = c.Inputs.Select(cases.ToTensor).ToArray();
                var expected = c.Outputs.Select(cases.ToTensor).ToArray();
                results.Add(Compare(c.Name, null, inputs, expected, "cases"));
            }
        }
        var failed = results.Where(r => !r.Passed).Select(r => r.Case).ToList();
        if (failed.Count > 0)
        {
            throw new ModelBuildException(DiagnosticCodes.ValidationOverTolerance,
                $"the engine's outputs are not within the tolerance {Format(tolerance)} (|a - b| <= tol + tol*|b|) at {failed.Count} of {results.Count} cases: "
                + string.Join("; ", failed.Select(r => $"'{r.Name}' against {Describe(r.ComparedWith)}: max abs error {Format(r.MaxAbsError)}, max rel error {Format(r.MaxRelError)}"))
                + ". Compile at fp32, narrow the ranges, or raise --tolerance if the difference is expected.", file);
        }
        return [.. results.Select(r => r.Case)];
    }

    private (ManifestValidationCase, bool) Compare(string name, IReadOnlyDictionary<string, long>? symbols, Tensor[] inputs, Tensor[] expected, string against)
    {
        var actual = Run(name, () => engine.Run(inputs), "the engine");
        if (actual.Length != expected.Length)
        {
            throw new ModelBuildException(DiagnosticCodes.CasesMalformed,
                $"case '{name}': the engine returns {actual.Length} outputs but {Describe(against)} has {expected.Length}.", file);
        }
        double maxAbs = 0, maxRel = 0;
        var passed = true;
        for (var j = 0; j < actual.Length; j++)
        {
            if (!actual[j].shape.SequenceEqual(expected[j].shape))
            {
                throw new ModelBuildException(DiagnosticCodes.ValidationShapeMismatch,
                    $"case '{name}': the engine's output {j} has shape [{string.Join(", ", actual[j].shape)}] but {Describe(against)} has [{string.Join(", ", expected[j].shape)}].", file);
            }
            var c = OutputComparison.Of(actual[j], expected[j], tolerance);
            maxAbs = Math.Max(maxAbs, c.MaxAbs);
            maxRel = Math.Max(maxRel, c.MaxRel);
            passed &= c.Passed;
        }
        var bound = symbols ?? SymbolsOf(inputs);
        return (new ManifestValidationCase(name, bound, [.. inputs.Select(i => (IReadOnlyList<long>)i.shape)], maxAbs, maxRel, tolerance) { ComparedWith = against }, passed);
    }

    private IReadOnlyDictionary<string, long> SymbolsOf(Tensor[] inputs) =>
        new InputShapeValidator(engine.Manifest).Validate([.. inputs.Select(t => (t.dtype.ToTensorDType(), (IReadOnlyList<long>)t.shape))]);

    private Tensor[] Run(string name, Func<Tensor[]> run, string what)
    {
        try
        {
            return run();
        }
        catch (ModelBuildException e)
        {
            throw new ModelBuildException(DiagnosticCodes.ValidationRunFailed, $"case '{name}': {what} failed: {e.Message}", file, e);
        }
    }

    private static string Describe(string against) => against switch
    {
        "cases" => "the cases file's expected outputs",
        "torchscript" => "the TorchScript module run directly",
        "onnxruntime" => "the ONNX model run directly in ONNX Runtime",
        _ => "the reference (the unoptimized graph, fp32, CPU)",
    };

    private static string Format(double d) => d.ToString("G4", CultureInfo.InvariantCulture);
}
