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
/// outputs. Inputs the model writes in place are compared too, after the call. Outside the criteria (see
/// <see cref="OutputComparison"/>) the compile fails (MB3001) with the numbers of every failing case.
/// </summary>
/// <param name="reference">Runs the reference: the outputs, then the new values of the engine's mutated inputs.</param>
public sealed class EngineValidator(CompiledModel engine, Func<IReadOnlyList<Tensor>, Tensor[]> reference, string comparedWith, ValidationCriteria criteria, string file)
{
    public IReadOnlyList<ManifestValidationCase> Validate(
        IReadOnlyList<(string Name, IReadOnlyDictionary<string, long> Symbols)> points, ModelGraph? graph, SafetensorsFile? cases, string? casesPath)
    {
        var results = new List<CaseResult>();
        var seed = 0x5EED;
        var outputCount = engine.Manifest.Outputs.Count;
        foreach (var (name, symbols) in points)
        {
            using var scope = NewDisposeScope();
            var inputs = CaseInputs.Generate(engine.Manifest.Inputs, symbols, graph, seed++);
            var expected = RunCase(name, () => reference(inputs), "the reference", file);
            var after = engine.Manifest.MutatedInputs.Select((input, m) => (Index: InputIndex(input), Value: expected[outputCount + m]))
                .ToDictionary(x => x.Index, x => x.Value);
            results.Add(Check(engine, name, symbols, inputs, expected[..outputCount], after, criteria, comparedWith, file));
        }
        if (cases is not null)
        {
            foreach (var c in CasesFile.Read(cases, casesPath!))
            {
                using var scope = NewDisposeScope();
                results.Add(Check(engine, c, cases, criteria, casesPath!));
            }
        }
        var failed = results.Where(r => !r.Passed).ToList();
        if (failed.Count > 0)
        {
            throw new ModelBuildException(DiagnosticCodes.ValidationOverTolerance,
                $"the engine's outputs are not within the tolerance ({criteria}, per output: |a - b| <= tol * (|b| + rms(b))) at {failed.Count} of {results.Count} cases: "
                + string.Join("; ", failed.Select(r => $"'{r.Case.Name}' against {Describe(r.Case.ComparedWith)}: {r.Summary}"))
                + ". Compile at fp32, narrow the ranges, or raise --tolerance if the difference is expected.", file);
        }
        return [.. results.Select(r => r.Case)];
    }

    /// <summary>A case of a cases file run through the engine: its outputs and, where the file has them, its inputs after the call.</summary>
    public static CaseResult Check(CompiledModel engine, Case c, SafetensorsFile cases, ValidationCriteria criteria, string casesPath)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(cases);
        return Check(engine, c.Name, null, [.. c.Inputs.Select(cases.ToTensor)], [.. c.Outputs.Select(cases.ToTensor)],
            c.InputsAfter.ToDictionary(kv => kv.Key, kv => cases.ToTensor(kv.Value)), criteria, "cases", casesPath);
    }

    /// <summary>Runs the engine on <paramref name="inputs"/> (which it may write) and compares its outputs and the inputs after the call with the expected ones.</summary>
    private static CaseResult Check(CompiledModel engine, string name, IReadOnlyDictionary<string, long>? symbols, Tensor[] inputs, Tensor[] expected,
        IReadOnlyDictionary<int, Tensor> inputsAfter, ValidationCriteria criteria, string against, string file)
    {
        var shapes = inputs.Select(i => (IReadOnlyList<long>)i.shape).ToList();
        var bound = symbols ?? new InputShapeValidator(engine.Manifest).Validate([.. inputs.Select(t => (t.dtype.ToTensorDType(), (IReadOnlyList<long>)t.shape))]);
        var actual = RunCase(name, () => engine.Run(inputs), "the engine", file);
        if (actual.Length != expected.Length)
        {
            throw new ModelBuildException(DiagnosticCodes.CasesMalformed,
                $"case '{name}': the engine returns {actual.Length} outputs but {Describe(against)} has {expected.Length}.", file);
        }
        var compared = actual.Zip(expected, (a, e) => (a, e)).Select((p, j) => (What: $"output {j}", p.a, p.e))
            .Concat(inputsAfter.OrderBy(kv => kv.Key).Select(kv => (What: $"input {kv.Key} after the call", a: inputs[kv.Key], e: kv.Value)));
        double maxAbs = 0, maxRel = 0, scaled = 0, cosine = 1;
        var worst = "";
        foreach (var (what, a, e) in compared)
        {
            if (!a.shape.SequenceEqual(e.shape))
            {
                throw new ModelBuildException(DiagnosticCodes.ValidationShapeMismatch,
                    $"case '{name}': the engine's {what} has shape [{string.Join(", ", a.shape)}] but {Describe(against)} has [{string.Join(", ", e.shape)}].", file);
            }
            var c = OutputComparison.Of(a, e);
            if (!c.Meets(criteria) && worst.Length == 0)
            {
                worst = $" ({what} first)";
            }
            maxAbs = Math.Max(maxAbs, c.MaxAbs);
            maxRel = Math.Max(maxRel, c.MaxRel);
            scaled = Math.Max(scaled, c.ScaledError);
            cosine = Math.Min(cosine, c.Cosine);
        }
        var result = new ManifestValidationCase(name, bound, shapes, maxAbs, maxRel, criteria.Tolerance)
        {
            ComparedWith = against,
            ScaledError = scaled,
            CosineSimilarity = cosine,
            MinCosineSimilarity = criteria.MinCosine,
        };
        return new CaseResult(result, worst.Length == 0, worst);
    }

    private int InputIndex(string input)
    {
        for (var i = 0; i < engine.Manifest.Inputs.Count; i++)
        {
            if (engine.Manifest.Inputs[i].Name == input)
            {
                return i;
            }
        }
        throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"the engine mutates input '{input}', which it does not have.", file);
    }

    private static Tensor[] RunCase(string name, Func<Tensor[]> run, string what, string file)
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
}

/// <summary>One validated case: what the manifest records of it, and whether it met the criteria.</summary>
/// <param name="Where">which output failed first, when one did (" (output 1 first)").</param>
public sealed record CaseResult(ManifestValidationCase Case, bool Passed, string Where)
{
    /// <summary>The case's numbers, for messages.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"scaled error {Case.ScaledError:G4}, cosine similarity {Case.CosineSimilarity:G6}, max abs error {Case.MaxAbsError:G4}, max rel error {Case.MaxRelError:G4}{Where}");
}
