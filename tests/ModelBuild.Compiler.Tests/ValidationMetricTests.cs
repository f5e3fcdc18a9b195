using System.Runtime.InteropServices;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// The validation measure means the same at every output scale: correct engines pass at their precision's default, and an
/// engine with a wrong kernel or a changed weight fails, on real models.
/// </summary>
[TestClass]
public sealed class ValidationMetricTests
{
    [TestMethod]
    [DataRow(1e-8)]
    [DataRow(1.0)]
    [DataRow(1e3)]
    public void ScaledError_IsTheSameAtEveryScale(double scale)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var expected = randn([64], generator: generator, dtype: ScalarType.Float64);
        var noise = randn([64], generator: generator, dtype: ScalarType.Float64) * 1e-5;

        var c = OutputComparison.Of((expected + noise) * scale, expected * scale);
        var reference = OutputComparison.Of(expected + noise, expected);

        Assert.AreEqual(reference.ScaledError, c.ScaledError, reference.ScaledError * 1e-6);
        Assert.IsTrue(c.Meets(ValidationCriteria.For("fp32", null)), $"{c}");
        Assert.IsFalse(OutputComparison.Of(zeros_like(expected), expected * scale).Meets(ValidationCriteria.For("fp32", null)), "zeros where values are expected fail at any scale");
    }

    [TestMethod]
    public void ExactZeros_NaNsAndIntegers_CompareAsEqualOnlyWhenEqual()
    {
        using var scope = NewDisposeScope();
        var criteria = ValidationCriteria.For("fp32", null);

        Assert.IsTrue(OutputComparison.Of(zeros(3), zeros(3)).Meets(criteria));
        Assert.IsFalse(OutputComparison.Of(tensor(new[] { 0f, 1e-12f, 0f }), zeros(3)).Meets(criteria), "an all-zero output has no scale to hide an error in");
        Assert.IsTrue(OutputComparison.Of(tensor(new[] { float.NaN, float.PositiveInfinity, 1f }), tensor(new[] { float.NaN, float.PositiveInfinity, 1f })).Meets(criteria));
        Assert.IsFalse(OutputComparison.Of(tensor(new[] { float.NaN, 1f }), tensor(new[] { 0f, 1f })).Meets(criteria));
        Assert.IsFalse(OutputComparison.Of(tensor(new long[] { 3, 4 }), tensor(new long[] { 3, 5 })).Meets(ValidationCriteria.For("bf16", null)), "integers compare exactly");
    }

    [TestMethod]
    [DataRow("hop", "scaled_outputs")]
    [DataRow("public", "small_cnn")]
    public void AKernelSwappedForAWrongOne_FailsValidation(string suite, string model)
    {
        var (compiled, cases) = Compiled(suite, model);
        var engine = EngineFile.Read(compiled.Bytes, model, CompiledModel.RuntimeVersion);
        var relu = engine.Plan.Blocks.SelectMany(b => b.Nodes ?? []).First(n => n.Target == "torch.ops.aten.relu.default");
        var plan = engine.Plan with
        {
            Blocks = [.. engine.Plan.Blocks.Select(b => b with { Nodes = b.Nodes?.Select(n => ReferenceEquals(n, relu) ? n with { Target = "torch.ops.aten.gelu.default" } : n).ToList() })],
        };

        AssertValidation(compiled, cases, passes: true);
        AssertValidation(EngineFile.Write(engine.Manifest, plan, Tensors(engine, _ => null)), cases, passes: false);
    }

    [TestMethod]
    [DataRow("hop", "scaled_outputs")]
    [DataRow("public", "small_cnn")]
    public void AWeightChangedByOnePercent_FailsValidation(string suite, string model)
    {
        var (compiled, cases) = Compiled(suite, model);
        var engine = EngineFile.Read(compiled.Bytes, model, CompiledModel.RuntimeVersion);
        var weight = engine.Tensors.Tensors.Values.Where(t => t.DType == TensorDType.F32 && t.Shape.Length == 4).MaxBy(t => t.ElementCount)!;

        var tampered = Tensors(engine, t =>
        {
            if (t.Name != weight.Name)
            {
                return null;
            }
            var values = MemoryMarshal.Cast<byte, float>(engine.Tensors.Data(t.Name).Span).ToArray().Select(v => v * 1.01f).ToArray();
            return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        });

        AssertValidation(EngineFile.Write(engine.Manifest, engine.Plan, tampered), cases, passes: false);
    }

    [TestMethod]
    public void ReducedPrecisionEngines_PassAtTheirDefaultsOrTwiceEager()
    {
        foreach (var precision in new[] { "bf16", "fp16" })
        {
            var model = TestPaths.HopFixture("scaled_outputs", "model.pt2");
            var engine = ModelCompiler.Compile(new CompileOptions(model) { Precision = precision, CasesPath = TestPaths.HopFixture("scaled_outputs", "cases.safetensors") });

            var criteria = ValidationCriteria.For(precision, null);
            Assert.IsTrue(engine.Manifest.Validation.All(v => v.EagerScaledError is { } eager && v.Tolerance == Math.Max(criteria.Tolerance, 2 * eager)), precision);
            Assert.IsTrue(engine.Manifest.Validation.Any(v => v.ScaledError > 1e-5), $"{precision} rounds: the engine is not the fp32 one");
        }
    }

    /// <summary>The fixture's engine, compiled with its cases, and the cases file.</summary>
    private static (CompiledEngine Engine, string Cases) Compiled(string suite, string model)
    {
        if (suite == "hop")
        {
            return (HopFixtureTests.Engine(model, "model.pt2"), TestPaths.HopFixture(model, "cases.safetensors"));
        }
        return (FixtureEngines.Get(model, "model.pt2"), TestPaths.Fixture(model, "cases.safetensors"));
    }

    /// <summary>The engine's tensors, with the bytes <paramref name="replace"/> gives for some.</summary>
    private static List<SafetensorsTensor> Tensors(EngineFile engine, Func<SafetensorsEntry, byte[]?> replace) =>
        [.. engine.Tensors.Tensors.Values.Select(t => new SafetensorsTensor(t.Name, t.DType, t.Shape, replace(t) ?? engine.Tensors.Data(t.Name)))];

    private static void AssertValidation(ReadOnlyMemory<byte> bytes, string casesPath, bool passes)
    {
        using var engine = CompiledModel.Load(bytes, "engine");
        var cases = SafetensorsFile.Read(casesPath);
        var validator = new EngineValidator(engine, _ => throw new InvalidOperationException("no reference points"), "reference", null, ValidationCriteria.For("fp32", null), casesPath);
        if (passes)
        {
            Assert.IsNotEmpty(validator.Validate([], null, cases, casesPath));
            return;
        }
        var e = Assert.ThrowsExactly<ModelBuildException>(() => validator.Validate([], null, cases, casesPath));
        Assert.AreEqual(DiagnosticCodes.ValidationOverTolerance, e.Code, e.Message);
        StringAssert.Contains(e.Message, "scaled error");
    }

    private static void AssertValidation(CompiledEngine engine, string casesPath, bool passes) => AssertValidation(engine.Bytes, casesPath, passes);
}
