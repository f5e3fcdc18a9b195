using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// A reduced-precision engine is held to eager execution at its precision: within the precision's criteria or twice
/// the eager reference's error, whichever is looser. An fp32 engine is not, and an engine much worse than eager fails.
/// </summary>
[TestClass]
public sealed class EagerBoundTests
{
    /// <summary>resnet_tiny: at fp16 on the CPU eager's own scaled error reaches 0.008 (the engine's 0.0105 at max), near the fixed 1e-2.</summary>
    private const string Model = "resnet_tiny";

    private static readonly Lazy<CompiledEngine> Fp16 = new(() =>
        ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(Model, "model.pt2")) { Precision = "fp16", Backend = "torch" }));

    [TestMethod]
    public void RelativeTo_LoosensTheCriteriaToTwiceEager_AndNoFurther()
    {
        var fp16 = ValidationCriteria.For("fp16", null);
        var eager = new OutputComparison(0, 0, ScaledError: 0.03, Cosine: 0.9994);

        var bound = fp16.RelativeTo(eager);

        Assert.AreEqual(0.06, bound.Tolerance, 1e-12);
        Assert.AreEqual(0.9988, bound.MinCosine, 1e-12);
        Assert.IsTrue(new OutputComparison(0, 0, 0.05, 0.999).Meets(bound), "above tol, below twice eager: passes");
        Assert.IsFalse(new OutputComparison(0, 0, 0.05, 0.999).Meets(fp16), "the same error fails the fixed default");
        Assert.IsFalse(new OutputComparison(0, 0, 0.07, 0.999).Meets(bound), "above twice eager: fails");
        Assert.IsFalse(new OutputComparison(0, 0, 0.3, 0.999).Meets(bound), "ten times eager: fails");
        Assert.IsFalse(new OutputComparison(0, 0, 0.01, 0.998).Meets(bound), "a cosine gap over twice eager's: fails");
        Assert.AreEqual(fp16, fp16.RelativeTo(new OutputComparison(0, 0, 0.001, 0.99999)), "an accurate eager leaves the defaults");
    }

    [TestMethod]
    public void RelativeTo_AToleranceTheUserGave_IsTheBound()
    {
        var given = ValidationCriteria.For("bf16", 1e-3);
        var eager = new OutputComparison(0, 0, ScaledError: 0.03, Cosine: 0.9994);

        var bound = given.RelativeTo(eager);

        Assert.AreEqual(given, bound);
        Assert.IsFalse(new OutputComparison(0, 0, 0.01, 0.9999).Meets(bound), "within twice eager but above the tolerance given: fails");
    }

    [TestMethod]
    public void AnFp32Engine_HasNoEagerReference()
    {
        var engine = FixtureEngines.Get("small_cnn", "model.pt2");

        Assert.IsTrue(engine.Manifest.Validation.All(v => v.EagerScaledError is null && v.EagerCosineSimilarity is null && v.Tolerance == 1e-4 && v.MinCosineSimilarity == 0.9999));
        Assert.IsFalse(EngineValidator.Summarize(engine.Manifest.Validation[0], "fp32").Contains("eager", StringComparison.Ordinal));
    }

    [TestMethod]
    public void AnFp16Engine_IsValidatedAgainstEagerFp16_AndReportsItsError()
    {
        var engine = Fp16.Value;

        Assert.HasCount(3, engine.Manifest.Validation);
        foreach (var v in engine.Manifest.Validation)
        {
            Assert.IsGreaterThan(0, v.EagerScaledError!.Value, v.Name);
            Assert.AreEqual(Math.Max(1e-2, 2 * v.EagerScaledError.Value), v.Tolerance, v.Name);
            Assert.AreEqual(Math.Min(0.999, 1 - 2 * (1 - v.EagerCosineSimilarity!.Value)), v.MinCosineSimilarity, 1e-12, v.Name);
            Assert.IsLessThanOrEqualTo(v.Tolerance, v.ScaledError, v.Name);
            StringAssert.Contains(EngineValidator.Summarize(v, "fp16"), "(eager fp16: ");
        }
        Assert.IsTrue(engine.Manifest.Validation.Any(v => v.Tolerance > 1e-2), "eager fp16 itself errs by more than half the fixed tolerance somewhere");
        // The fields travel in the engine file and read back.
        var read = EngineFile.Read(engine.Bytes, Model, CompiledModel.RuntimeVersion).Manifest.Validation;
        Assert.AreEqual(engine.Manifest.Validation[0].EagerScaledError, read[0].EagerScaledError);
    }

    /// <summary>
    /// A wrong kernel (gelu for a relu) in the fp16 engine fails the cases with MB3001, eager's error next to the
    /// engine's; the correct engine, standing in for eager fp16, passes the same validator.
    /// </summary>
    [TestMethod]
    public void AnFp16EngineWithAWrongKernel_FailsNamingBothErrors()
    {
        var compiled = Fp16.Value;
        var file = EngineFile.Read(compiled.Bytes, Model, CompiledModel.RuntimeVersion);
        var relu = file.Plan.Blocks.SelectMany(b => b.Nodes ?? []).First(n => n.Target == "torch.ops.aten.relu.default");
        var plan = file.Plan with
        {
            Blocks = [.. file.Plan.Blocks.Select(b => b with { Nodes = b.Nodes?.Select(n => ReferenceEquals(n, relu) ? n with { Target = "torch.ops.aten.gelu.default" } : n).ToList() })],
        };
        var tensors = file.Tensors.Tensors.Values.Select(t => new SafetensorsTensor(t.Name, t.DType, t.Shape, file.Tensors.Data(t.Name))).ToList();
        var casesPath = TestPaths.Fixture(Model, "cases.safetensors");
        var cases = SafetensorsFile.Read(casesPath);
        using var eager = CompiledModel.Load(compiled.Bytes, "eager");
        using var wrong = CompiledModel.Load(EngineFile.Write(file.Manifest, plan, tensors), "wrong");
        var criteria = ValidationCriteria.For("fp16", null);

        EngineValidator Validator(CompiledModel engine) =>
            new(engine, _ => throw new InvalidOperationException("no reference points"), "reference", inputs => eager.Run(inputs.ToArray()), criteria, casesPath);

        Assert.IsTrue(Validator(eager).Validate([], null, cases, casesPath).All(v => v.EagerScaledError is not null));
        var e = Assert.ThrowsExactly<ModelBuildException>(() => Validator(wrong).Validate([], null, cases, casesPath));
        Assert.AreEqual(DiagnosticCodes.ValidationOverTolerance, e.Code, e.Message);
        StringAssert.Contains(e.Message, "(eager fp16: ");
        StringAssert.Contains(e.Message, "; bound ");
    }
}
