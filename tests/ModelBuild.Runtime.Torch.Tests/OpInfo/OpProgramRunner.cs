using System.Globalization;
using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Passes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Export;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests.OpInfo;

internal enum OpOutcome
{
    /// <summary>Every output matches PyTorch's within the program's tolerance.</summary>
    Passed,

    /// <summary>The lowering check refuses a node (no kernel, or an argument its kernel does not implement), as the compiler would.</summary>
    Unsupported,

    /// <summary>The program was read and accepted but did not reproduce PyTorch's outputs: a bug.</summary>
    Failed,
}

/// <summary>One program file run: <paramref name="Targets"/> are the operators it ran (after functionalization and dead-code elimination).</summary>
internal sealed record OpRun(OpProgram Program, string File, bool TrainingIr, OpOutcome Outcome, string? Reason, IReadOnlyList<string> Targets)
{
    public override string ToString() => Reason is null ? $"{File}: {Outcome}" : $"{File}: {Outcome}: {Reason}";
}

/// <summary>
/// Runs a program the way the compiler builds its reference: read, functionalization, dead-code elimination, the lowering
/// check of the TorchSharp backend, then <see cref="GraphExecutor"/> with the kernels; and compares with PyTorch.
/// </summary>
internal static class OpProgramRunner
{
    private static readonly TorchBackendCompiler Backend = new();

    public static IEnumerable<OpRun> RunAll(OpProgramSuite suite, OpProgram program) =>
        program.Files.Select(f => Run(suite, program, f));

    public static OpRun Run(OpProgramSuite suite, OpProgram program, string file)
    {
        var training = file.EndsWith(".train.pt2", StringComparison.Ordinal);
        ModelGraph graph;
        try
        {
            graph = ModelReader.Read(suite.Archive(file), file);
            graph = Functionalization.Run(graph, OpKernels.IsSupported, file);
            graph = DeadCodeElimination.Run(graph);
        }
        catch (ModelBuildException e)
        {
            // The front end and functionalization refuse what ModelBuild does not handle with a coded error, as the compiler would.
            return new OpRun(program, file, training, OpOutcome.Unsupported, $"{e.Code}: {FirstSentence(e.Detail)}", []);
        }

        var targets = graph.Nodes.Select(n => Short(n.Target)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var refused = graph.Nodes.Select(n => (Node: n, Why: Backend.Unsupported(n, graph))).Where(r => r.Why is not null).ToList();
        if (refused.Count > 0)
        {
            var reasons = refused.Select(r => $"{Short(r.Node.Target)}: {r.Why}").Distinct(StringComparer.Ordinal);
            return new OpRun(program, file, training, OpOutcome.Unsupported, string.Join("; ", reasons), targets);
        }

        var failure = Execute(suite, program, graph, shapeOnly: program.CompareShapeOnly || graph.Nodes.Any(DrawsRandomNumbers));
        return new OpRun(program, file, training, failure is null ? OpOutcome.Passed : OpOutcome.Failed, failure, targets);
    }

    /// <summary>
    /// Whether the node draws from a random generator. PyTorch's eager runs were seeded, so index.json asks for values, but
    /// no program carries PyTorch's generator state: such programs are compared by shape and dtype.
    /// </summary>
    private static bool DrawsRandomNumbers(GraphNode node)
    {
        var op = Short(node.Target);
        return op.StartsWith("aten.rand", StringComparison.Ordinal) && op != "aten.rand_like" && !op.StartsWith("aten.randperm_", StringComparison.Ordinal)
            || op.StartsWith("aten.bernoulli", StringComparison.Ordinal) || op.StartsWith("aten.normal", StringComparison.Ordinal)
            || op.StartsWith("aten.multinomial", StringComparison.Ordinal) || op.StartsWith("aten.uniform", StringComparison.Ordinal)
            || op.StartsWith("aten.exponential", StringComparison.Ordinal) || op.StartsWith("aten.cauchy", StringComparison.Ordinal)
            || op.StartsWith("aten.geometric", StringComparison.Ordinal) || op.StartsWith("aten.log_normal", StringComparison.Ordinal)
            || (op.Contains("dropout", StringComparison.Ordinal) && Constant(node, "train") is BoolArg { Value: true } && Constant(node, "p") is FloatArg { Value: > 0 })
            || (op.StartsWith("aten.rrelu", StringComparison.Ordinal) && Constant(node, "training") is BoolArg { Value: true })
            || (op.StartsWith("aten.scaled_dot_product_attention", StringComparison.Ordinal) && Constant(node, "dropout_p") is FloatArg { Value: > 0 });
    }

    private static Argument? Constant(GraphNode node, string name) => node.Inputs.FirstOrDefault(i => i.Name == name)?.Value;

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    /// <summary><c>aten.add.Tensor</c> for <c>torch.ops.aten.add.Tensor</c>, as index.json and core_ops.json name targets.</summary>
    public static string Short(string target) => target.StartsWith("torch.ops.", StringComparison.Ordinal) ? target["torch.ops.".Length..] : target;

    /// <summary>Null when every output matches, else what went wrong.</summary>
    private static string? Execute(OpProgramSuite suite, OpProgram program, ModelGraph graph, bool shapeOnly)
    {
        using var scope = NewDisposeScope();
        try
        {
            var weights = graph.Weights.ToDictionary(w => w.ValueName, w => TorchTensorConversion.ToTensor(w.Meta.DType, [.. w.Meta.Sizes.Select(d => d.Value!.Value)], w.Read().Span), StringComparer.Ordinal);
            var executor = new GraphExecutor(graph.Nodes, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)], weights, [], CPU);
            if (graph.Inputs.Count != program.Inputs)
            {
                return $"the program takes {graph.Inputs.Count} inputs, the sample has {program.Inputs}";
            }

            var inputs = Enumerable.Range(0, program.Inputs).Select(i => (object)suite.Cases.ToTensor($"{program.Id}.in.{i}")).ToList();
            // The new values of inputs the op writes in place (embedding's max_norm renormalizes its weight) come after its outputs.
            var outputs = executor.Run(inputs)[..^graph.MutatedInputs.Count];
            if (outputs.Length != program.Outputs)
            {
                return $"{outputs.Length} outputs, PyTorch gave {program.Outputs}";
            }

            for (var j = 0; j < outputs.Length; j++)
            {
                if (Mismatch(suite.Cases.ToTensor($"{program.Id}.out.{j}"), outputs[j], program, shapeOnly) is { } why)
                {
                    return $"output {j}: {why}";
                }
            }

            return null;
        }
        catch (ModelBuildException e)
        {
            return $"{e.Code}: {e.Message}";
        }
    }

    /// <summary>torch.testing.assert_close with equal_nan: |actual - expected| &lt;= atol + rtol * |expected|, NaN where PyTorch has NaN.</summary>
    private static string? Mismatch(Tensor expected, Tensor actual, OpProgram program, bool shapeOnly)
    {
        if (!expected.shape.SequenceEqual(actual.shape))
        {
            return $"shape [{string.Join(", ", actual.shape)}], PyTorch [{string.Join(", ", expected.shape)}]";
        }

        if (expected.dtype != actual.dtype)
        {
            return $"dtype {actual.dtype}, PyTorch {expected.dtype}";
        }

        if (shapeOnly || expected.numel() == 0)
        {
            return null;
        }

        var e = expected.to(ScalarType.Float64);
        var a = actual.to(ScalarType.Float64);
        var close = (a - e).abs().le(e.abs().mul(program.Rtol).add(program.Atol));
        var ok = close.logical_or(e.eq(a)).logical_or(e.isnan().logical_and(a.isnan()));
        var bad = ok.logical_not();
        var count = bad.sum().item<long>();
        if (count == 0)
        {
            return null;
        }

        var worst = (a - e).abs().nan_to_num(double.PositiveInfinity).masked_select(bad).max().item<double>();
        return string.Create(CultureInfo.InvariantCulture,
            $"{count} of {e.numel()} values beyond atol {program.Atol} + rtol {program.Rtol} (max abs error {worst:G4})");
    }
}
