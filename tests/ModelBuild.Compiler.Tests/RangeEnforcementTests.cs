using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>A restored engine runs at the ends of every range and refuses one past each end with the specific error.</summary>
[TestClass]
public sealed class RangeEnforcementTests
{
    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModelsWithExtra), typeof(TestPaths))]
    public void Run_AtTheEndsOfEveryRange_Works_AndOnePastEachEnd_FailsNamingTheSymbolAndRange(string model)
    {
        using var compiled = CompiledModel.Load(FixtureEngines.Get(model, "model.pt2").Bytes, model);
        var manifest = compiled.Manifest;

        foreach (var (symbol, range) in manifest.Symbols)
        {
            foreach (var (value, inside) in new[] { (range.Min, true), (range.Max, true), (range.Min - 1, false), (range.Max + 1, false) })
            {
                var symbols = manifest.Symbols.ToDictionary(kv => kv.Key, kv => kv.Value.Opt);
                symbols[symbol] = value;
                using var scope = NewDisposeScope();
                var inputs = CaseInputs.Generate(manifest.Inputs, symbols, null, 1);
                if (inside)
                {
                    Assert.HasCount(manifest.Outputs.Count, compiled.Run(inputs), $"{symbol} = {value}");
                    continue;
                }
                var e = Assert.ThrowsExactly<ModelBuildException>(() => compiled.Run(inputs), $"{symbol} = {value}");
                Assert.AreEqual(DiagnosticCodes.InputDimOutOfRange, e.Code, e.Message);
                StringAssert.Contains(e.Message, $"symbol {symbol}");
                StringAssert.Contains(e.Message, $"{value}");
                StringAssert.Contains(e.Message, $"outside the compiled range {range.Min}..{range.Max}");
            }
        }
    }

    [TestMethod]
    public void Run_OnePastTheBatchRange_GivesTheDocumentedMessage()
    {
        using var compiled = CompiledModel.Load(FixtureEngines.Get("mlp", "model.pt2").Bytes, "mlp");
        using var x = zeros(257, 32);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => compiled.Run(x));

        Assert.AreEqual("MB5003: input 'x' dim 0 (symbol s77) = 257 is outside the compiled range 1..256.", e.Message);
    }

    [TestMethod]
    public void Run_FromSeveralThreadsAtOnce_GivesEachItsOwnResult()
    {
        using var compiled = CompiledModel.Load(FixtureEngines.Get("small_cnn", "model.core.pt2").Bytes, "small_cnn");
        using var x1 = randn([2, 3, 32, 32], generator: manual_seed(1));
        using var x4 = randn([4, 3, 16, 24], generator: manual_seed(2));
        using var e1 = compiled.Run(x1)[0];
        using var e4 = compiled.Run(x4)[0];

        Parallel.For(0, 16, i =>
        {
            using var scope = NewDisposeScope();
            var (x, expected) = i % 2 == 0 ? (x1, e1) : (x4, e4);
            var y = compiled.Run(x)[0];
            Assert.IsTrue(y.allclose(expected, rtol: 0, atol: 0), $"run {i}");
        });
    }
}
