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
/// <see cref="OutputComparison"/>) the compile fails (MB3001) with the numbers of every failing case. A
/// reduced-precision engine has an eager reference too, run on the same inputs and compared with the same expected
/// outputs: each output is held to <see cref="ValidationCriteria.RelativeTo"/> its eager comparison, so that the
/// engine may be as far off as its precision makes eager execution, not much further.
/// </summary>
/// <param name="reference">Runs the reference: the outputs, then the new values of the engine's mutated inputs.</param>
/// <param name="eager">Runs the eager reference (as <paramref name="reference"/> does) of an fp16/bf16 engine; null for fp32.</param>
public sealed class EngineValidator(CompiledModel engine, Func<IReadOnlyList<Tensor>, Tensor[]> reference, string comparedWith,
    Func<IReadOnlyList<Tensor>, Tensor[]>? eager, ValidationCriteria criteria, string file)
{
    public IReadOnlyList<ManifestValidationCase> Validate(
        IReadOnlyList<(string Name, IReadOnlyDictionary<string, long> Symbols)> points, ModelGraph? graph, SafetensorsFile? cases, string? casesPath)
    {
        var results = new List<CaseResult>();
        var seed = 0x5EED;
        foreach (var (name, symbols) in points)
        {
            using var scope = NewDisposeScope();
            var inputs = CaseInputs.Generate(engine.Manifest.Inputs, symbols, graph, seed++);
            var (expected, after) = Split(engine, RunCase(name, () => reference(inputs), "the reference", file), file);
            results.Add(Check(engine, name, symbols, inputs, expected, after, RunEager(name, inputs), criteria, comparedWith, file));
        }
        if (cases is not null)
        {
            foreach (var c in CasesFile.Read(cases, casesPath!))
            {
                using var scope = NewDisposeScope();
                results.Add(Check(engine, c, cases, eager is null ? null : inputs => RunEager(c.Name, inputs), criteria, casesPath!));
            }
        }
        var failed = results.Where(r => !r.Passed).ToList();
        if (failed.Count > 0)
        {
            var eagerBound = eager is null ? ""
                : string.Create(CultureInfo.InvariantCulture, $", or where looser {ValidationCriteria.EagerFactor:G}x the error and cosine gap of eager {engine.Manifest.Target.Precision} (the unoptimized graph at {engine.Manifest.Target.Precision})");
            throw new ModelBuildException(DiagnosticCodes.ValidationOverTolerance,
                $"the engine's outputs are not within the tolerance ({criteria}{eagerBound}, per output: |a - b| <= tol * (|b| + rms(b))) at {failed.Count} of {results.Count} cases: "
                + string.Join("; ", failed.Select(r => $"'{r.Case.Name}' against {Describe(r.Case.ComparedWith)}: {r.Summary}"))
                + ". Compile at fp32, narrow the ranges, or raise --tolerance if the difference is expected.", file);
        }
        return [.. results.Select(r => r.Case)];
    }

    /// <summary>A case of a cases file run through the engine: its outputs and, where the file has them, its inputs after the call.</summary>
    public static CaseResult Check(CompiledModel engine, Case c, SafetensorsFile cases, ValidationCriteria criteria, string casesPath) =>
        Check(engine, c, cases, null, criteria, casesPath);

    private static CaseResult Check(CompiledModel engine, Case c, SafetensorsFile cases, Func<Tensor[], EagerRun?>? eager, ValidationCriteria criteria, string casesPath)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(cases);
        Tensor[] inputs = [.. c.Inputs.Select(cases.ToTensor)];
        // The eager reference runs first: the engine may write the inputs.
        var eagerRun = eager?.Invoke(inputs);
        return Check(engine, c.Name, null, inputs, [.. c.Outputs.Select(cases.ToTensor)],
            c.InputsAfter.ToDictionary(kv => kv.Key, kv => cases.ToTensor(kv.Value)), eagerRun, criteria, "cases", casesPath);
    }

    /// <summary>
    /// Runs the engine on <paramref name="inputs"/> (which it may write) and compares its outputs and the inputs after the
    /// call with the expected ones, each within <paramref name="criteria"/> or, with an eager run, within the criteria
    /// relative to the eager run's comparison with the same expected tensor.
    /// </summary>
    private static CaseResult Check(CompiledModel engine, string name, IReadOnlyDictionary<string, long>? symbols, Tensor[] inputs, Tensor[] expected,
        IReadOnlyDictionary<int, Tensor> inputsAfter, EagerRun? eager, ValidationCriteria criteria, string against, string file)
    {
        var shapes = inputs.Select(i => (IReadOnlyList<long>)i.shape).ToList();
        var bound = symbols ?? new InputShapeValidator(engine.Manifest).Validate([.. inputs.Select(t => (t.dtype.ToTensorDType(), (IReadOnlyList<long>)t.shape))]);
        var actual = RunCase(name, () => engine.Run(inputs), "the engine", file);
        if (actual.Length != expected.Length)
        {
            throw new ModelBuildException(DiagnosticCodes.CasesMalformed,
                $"case '{name}': the engine returns {actual.Length} outputs but {Describe(against)} has {expected.Length}.", file);
        }
        var compared = actual.Zip(expected, (a, e) => (a, e)).Select((p, j) => (What: $"output {j}", p.a, p.e, Eager: eager?.Outputs[j]))
            .Concat(inputsAfter.OrderBy(kv => kv.Key).Select(kv => (What: $"input {kv.Key} after the call", a: inputs[kv.Key], e: kv.Value, Eager: eager?.InputsAfter.GetValueOrDefault(kv.Key))));
        double maxAbs = 0, maxRel = 0, scaled = 0, cosine = 1, eagerScaled = 0, eagerCosine = 1, tolerance = criteria.Tolerance, minCosine = criteria.MinCosine;
        var worst = "";
        foreach (var (what, a, e, eagerValue) in compared)
        {
            if (!a.shape.SequenceEqual(e.shape))
            {
                throw new ModelBuildException(DiagnosticCodes.ValidationShapeMismatch,
                    $"case '{name}': the engine's {what} has shape [{string.Join(", ", a.shape)}] but {Describe(against)} has [{string.Join(", ", e.shape)}].", file);
            }
            var c = OutputComparison.Of(a, e);
            var within = criteria;
            if (eagerValue is not null)
            {
                var eagerComparison = OutputComparison.Of(eagerValue, e);
                within = criteria.RelativeTo(eagerComparison);
                eagerScaled = Math.Max(eagerScaled, eagerComparison.ScaledError);
                eagerCosine = Math.Min(eagerCosine, eagerComparison.Cosine);
            }
            if (!c.Meets(within) && worst.Length == 0)
            {
                worst = $" ({what} first)";
            }
            // The case records the loosest bound of its outputs, which the largest error of a passing case is within.
            tolerance = Math.Max(tolerance, within.Tolerance);
            minCosine = Math.Min(minCosine, within.MinCosine);
            maxAbs = Math.Max(maxAbs, c.MaxAbs);
            maxRel = Math.Max(maxRel, c.MaxRel);
            scaled = Math.Max(scaled, c.ScaledError);
            cosine = Math.Min(cosine, c.Cosine);
        }
        var result = new ManifestValidationCase(name, bound, shapes, maxAbs, maxRel, tolerance)
        {
            ComparedWith = against,
            ScaledError = scaled,
            CosineSimilarity = cosine,
            MinCosineSimilarity = minCosine,
            EagerScaledError = eager is null ? null : eagerScaled,
            EagerCosineSimilarity = eager is null ? null : eagerCosine,
        };
        return new CaseResult(result, worst.Length == 0, Summarize(result, engine.Manifest.Target.Precision) + worst);
    }

    /// <summary>A case's numbers, for messages: with an eager reference, eager's error and the bound next to the engine's, so that a failure tells the engine's fault from the precision's.</summary>
    public static string Summarize(ManifestValidationCase c, string precision)
    {
        ArgumentNullException.ThrowIfNull(c);
        var ci = CultureInfo.InvariantCulture;
        var error = c.EagerScaledError is { } eagerScaled
            ? string.Create(ci, $"scaled error {c.ScaledError:G4} (eager {precision}: {eagerScaled:G4}; bound {c.Tolerance:G4}), cosine similarity {c.CosineSimilarity:G6} (eager {precision}: {c.EagerCosineSimilarity:G6}; floor {c.MinCosineSimilarity:G6})")
            : string.Create(ci, $"scaled error {c.ScaledError:G4} (tolerance {c.Tolerance:G4}), cosine similarity {c.CosineSimilarity:G6}");
        return string.Create(ci, $"{error}, max abs error {c.MaxAbsError:G4}, max rel error {c.MaxRelError:G4}");
    }

    /// <summary>The eager reference's run on <paramref name="inputs"/>, null without one.</summary>
    private EagerRun? RunEager(string name, Tensor[] inputs)
    {
        if (eager is null)
        {
            return null;
        }
        var (outputs, after) = Split(engine, RunCase(name, () => eager(inputs), "the eager reference", file), file);
        return new EagerRun(outputs, after);
    }

    /// <summary>A reference's run split into the outputs and the new values of the mutated inputs, by input index.</summary>
    private static (Tensor[] Outputs, Dictionary<int, Tensor> InputsAfter) Split(CompiledModel engine, Tensor[] run, string file)
    {
        var count = engine.Manifest.Outputs.Count;
        return (run[..count], engine.Manifest.MutatedInputs.Select((input, m) => (Index: InputIndex(engine, input, file), Value: run[count + m]))
            .ToDictionary(x => x.Index, x => x.Value));
    }

    private static int InputIndex(CompiledModel engine, string input, string file)
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
/// <param name="Summary">the case's numbers, for messages, and which output failed first when one did (" (output 1 first)").</param>
public sealed record CaseResult(ManifestValidationCase Case, bool Passed, string Summary);

/// <summary>A run of the eager reference: its outputs, and the new values of the mutated inputs by input index.</summary>
internal sealed record EagerRun(Tensor[] Outputs, IReadOnlyDictionary<int, Tensor> InputsAfter);
