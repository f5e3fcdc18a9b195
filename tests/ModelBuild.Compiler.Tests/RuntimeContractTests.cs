using ModelBuild.Compiler.Passes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Export;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Runtime.Torch.Execution;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// The ranges are a contract, and a loaded model is shared state: random shapes inside the compiled ranges (a seeded
/// generator) run and match the reference interpretation of the original graph, shapes outside are refused, many
/// threads get bit-identical results, and disposing a model while calls are in flight is safe.
/// </summary>
[TestClass]
public sealed class RuntimeContractTests
{
    private const int Points = 6;

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void RandomShapesInsideTheRanges_RunAndMatchTheReference(string model)
    {
        using var compiled = CompiledModel.Load(FixtureEngines.Get(model, "model.pt2").Bytes, model);
        var manifest = compiled.Manifest;
        var graph = DeadCodeElimination.Run(Functionalization.Run(ModelReader.Read(TestPaths.Fixture(model, "model.pt2")), OpKernels.IsSupported, model));
        var weights = graph.Weights.ToDictionary(w => w.ValueName, w => w.ToTensor());
        var reference = new GraphExecutor(graph.Nodes, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)], weights, [], CPU);
        var criteria = ValidationCriteria.For(manifest.Target.Precision, null);
        var random = new Random(model.GetHashCode(StringComparison.Ordinal) ^ 0x5EED);
        try
        {
            foreach (var symbols in InsidePoints(manifest, random).Take(Points))
            {
                using var scope = NewDisposeScope();
                var inputs = CaseInputs.Generate(manifest.Inputs, symbols, graph, random.Next());

                var actual = compiled.Run(inputs);
                var expected = reference.Run([.. inputs]);

                var where = string.Join(", ", symbols.Select(s => $"{s.Key}={s.Value}"));
                Assert.HasCount(expected.Length, actual, where);
                for (var o = 0; o < actual.Length; o++)
                {
                    CollectionAssert.AreEqual(expected[o].shape, actual[o].shape, $"{where}: output {o} shape");
                    var c = OutputComparison.Of(actual[o], expected[o]);
                    Assert.IsTrue(c.Meets(criteria), $"{where}: output {o} scaled error {c.ScaledError}, cosine {c.Cosine}, max abs error {c.MaxAbs}");
                }
            }
        }
        finally
        {
            foreach (var w in weights.Values)
            {
                w.Dispose();
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void RandomShapesOutsideTheRanges_AreRefused_NamingTheSymbol(string model)
    {
        using var compiled = CompiledModel.Load(FixtureEngines.Get(model, "model.pt2").Bytes, model);
        var manifest = compiled.Manifest;
        if (manifest.Symbols.Count == 0)
        {
            return; // static: every dim is checked as a size (InputShapeValidatorTests)
        }
        var random = new Random(model.GetHashCode(StringComparison.Ordinal) ^ 0x0FF);
        for (var n = 0; n < Points; n++)
        {
            var symbols = InsidePoints(manifest, random).First();
            var (symbol, range) = manifest.Symbols.ElementAt(random.Next(manifest.Symbols.Count));
            var below = range.Min > 1 && random.Next(2) == 0;
            symbols[symbol] = below ? random.NextInt64(Math.Max(1, range.Min - 8), range.Min) : range.Max + random.NextInt64(1, 9);
            using var scope = NewDisposeScope();
            var inputs = CaseInputs.Generate(manifest.Inputs, symbols, null, n);

            var e = Assert.ThrowsExactly<ModelBuildException>(() => compiled.Run(inputs), $"{symbol} = {symbols[symbol]}");

            Assert.IsTrue(e.Code is DiagnosticCodes.InputDimOutOfRange or DiagnosticCodes.InputRelationViolated, e.Message);
            StringAssert.Contains(e.Message, symbols[symbol].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [TestMethod]
    public void ManyThreads_OnOneModel_GetResultsBitIdenticalToOneThread()
    {
        using var compiled = CompiledModel.Load(FixtureEngines.Get("transformer_block", "model.pt2").Bytes, "transformer_block");
        var random = new Random(7);
        var cases = InsidePoints(compiled.Manifest, random).Take(4)
            .Select((s, i) => CaseInputs.Generate(compiled.Manifest.Inputs, s, null, i).Select(t => t.DetachFromDisposeScope()).ToArray()).ToList();
        var expected = cases.Select(c => compiled.Run(c).Select(t => t.DetachFromDisposeScope()).ToArray()).ToList();

        var mismatches = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8 * 25, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var scope = NewDisposeScope();
            var which = i % cases.Count;
            var actual = compiled.Run(cases[which]);
            for (var o = 0; o < actual.Length; o++)
            {
                if (!actual[o].allclose(expected[which][o], rtol: 0, atol: 0))
                {
                    mismatches.Add($"run {i}, case {which}, output {o}");
                }
            }
        });

        Assert.IsEmpty(mismatches, string.Join("; ", mismatches.Take(5)));
    }

    [TestMethod]
    public void DisposingWhileCallsAreInFlight_LetsThemFinishOrRefuse_NeverCrash()
    {
        var compiled = CompiledModel.Load(FixtureEngines.Get("small_cnn", "model.pt2").Bytes, "small_cnn");
        using var x = randn(2, 3, 32, 32);
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var completed = 0;
        var started = new CountdownEvent(4);
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            started.Signal();
            while (true)
            {
                try
                {
                    using var scope = NewDisposeScope();
                    compiled.Run(x);
                    Interlocked.Increment(ref completed);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (Exception e)
                {
                    failures.Add(e);
                    return;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        started.Wait();
        SpinWait.SpinUntil(() => Volatile.Read(ref completed) >= 8, TimeSpan.FromSeconds(30));

        compiled.Dispose();

        Assert.IsTrue(threads.All(t => t.Join(TimeSpan.FromSeconds(30))), "every caller returned");
        Assert.IsEmpty(failures, string.Join("; ", failures.Select(f => f.GetType().Name + ": " + f.Message)));
        Assert.IsGreaterThanOrEqualTo(8, completed);
        Assert.ThrowsExactly<ObjectDisposedException>(() => compiled.Run(x));
    }

    /// <summary>Endless random symbol values inside every range that also satisfy the relations.</summary>
    private static IEnumerable<Dictionary<string, long>> InsidePoints(EngineManifest manifest, Random random)
    {
        var relations = manifest.Relations.Select(r => (r, SymExpr.Parse(r.Expr))).ToList();
        while (true)
        {
            var symbols = manifest.Symbols.ToDictionary(s => s.Key, s => random.NextInt64(s.Value.Min, s.Value.Max + 1), StringComparer.Ordinal);
            if (relations.All(r => r.Item2.Evaluate(symbols) is var v && v >= r.r.Min && v <= r.r.Max))
            {
                yield return symbols;
            }
        }
    }
}
