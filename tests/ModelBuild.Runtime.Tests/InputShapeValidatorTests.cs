using ModelBuild.Diagnostics;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Runtime.Tests;

[TestClass]
public sealed class InputShapeValidatorTests
{
    /// <summary>x [s77, 4, s53], y [s77, 2*s53] with the relation 2*s53 in 16..64, output-free.</summary>
    private static readonly EngineManifest Manifest = new()
    {
        Name = "m",
        Source = new ManifestSource("pt2", "m.pt2", "", null),
        Toolchain = new ManifestToolchain("0", "0", "0"),
        Target = new ManifestTarget("cpu", null, "fp32"),
        Inputs = [new ManifestTensor("x", "F32", ["s77", "4", "s53"]), new ManifestTensor("y", "F32", ["s77", "2*s53"])],
        Outputs = [],
        Symbols = new Dictionary<string, ManifestSymbol> { ["s77"] = new(1, 8, 32), ["s53"] = new(8, 16, 40) },
        Relations = [new ManifestRelation("2*s53", 16, 64)],
        Validation = [],
        RuntimeVersions = "[0.1.0, )",
        PayloadSha256 = "",
    };

    private static readonly InputShapeValidator Validator = new(Manifest);

    [TestMethod]
    public void Validate_ShapesInside_BindsEverySymbol()
    {
        var symbols = Validator.Validate(Inputs([3, 4, 10], [3, 20]));

        Assert.AreEqual(3, symbols["s77"]);
        Assert.AreEqual(10, symbols["s53"]);
    }

    [TestMethod]
    [DataRow(0L, "input 'x' dim 0 (symbol s77) = 0 is outside the compiled range 1..32.")]
    [DataRow(33L, "input 'x' dim 0 (symbol s77) = 33 is outside the compiled range 1..32.")]
    public void Validate_OnePastEachEndOfARange_NamesInputDimSymbolAndRange(long batch, string message)
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate(Inputs([batch, 4, 10], [batch, 20])));

        Assert.AreEqual(DiagnosticCodes.InputDimOutOfRange, e.Code);
        Assert.AreEqual($"MB5003: {message}", e.Message);
    }

    [TestMethod]
    public void Validate_AfterShapesPassed_StillChecksOtherShapesAndTheSameShapesAgain()
    {
        var validator = new InputShapeValidator(Manifest);
        long[] x = [3, 4, 10];
        validator.Validate(Inputs(x, [3, 20]));
        // The caller's shape array changes after the run: the remembered signature must not follow it.
        x[0] = 40;

        var e = Assert.ThrowsExactly<ModelBuildException>(() => validator.Validate(Inputs(x, [40, 20])));
        var again = validator.Validate(Inputs([3, 4, 10], [3, 20]));
        Assert.ThrowsExactly<ModelBuildException>(() => validator.Validate(Inputs([3, 4, 10], [3, 21])));

        Assert.AreEqual(DiagnosticCodes.InputDimOutOfRange, e.Code);
        Assert.AreEqual(3, again["s77"]);
        Assert.AreEqual(10, again["s53"]);
    }

    [TestMethod]
    public void Validate_TwoDimsOfOneSymbolDisagreeing_NamesBoth()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate(Inputs([3, 4, 10], [5, 20])));

        Assert.AreEqual(DiagnosticCodes.InputDimMismatch, e.Code);
        StringAssert.Contains(e.Message, "input 'y' dim 0");
        StringAssert.Contains(e.Message, "input 'x' dim 0 gave s77 = 3");
    }

    [TestMethod]
    public void Validate_AnAffineDimNotMatchingItsSymbol_SaysWhatItMustEqual()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate(Inputs([3, 4, 10], [3, 21])));

        Assert.AreEqual(DiagnosticCodes.InputDimMismatch, e.Code);
        StringAssert.Contains(e.Message, "input 'y' dim 1 = 21 must equal 2*s53 = 20");
    }

    [TestMethod]
    public void Validate_AStaticDimDiffering_IsRejected() =>
        Assert.AreEqual(DiagnosticCodes.InputDimMismatch,
            Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate(Inputs([3, 5, 10], [3, 20]))).Code);

    [TestMethod]
    public void Validate_ARelationViolated_NamesTheExpressionAndRange()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate(Inputs([3, 4, 33], [3, 66])));

        Assert.AreEqual(DiagnosticCodes.InputRelationViolated, e.Code);
        StringAssert.Contains(e.Message, "2*s53 = 66 (with s53 = 33) is outside the compiled range 16..64.");
    }

    [TestMethod]
    public void Validate_CountDtypeAndRank_AreCheckedFirst()
    {
        Assert.AreEqual(DiagnosticCodes.InputCountMismatch,
            Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate([(TensorDType.F32, [3L, 4, 10])])).Code);
        Assert.AreEqual(DiagnosticCodes.InputDTypeMismatch,
            Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate([(TensorDType.F32, [3L, 4, 10]), (TensorDType.I64, [3L, 20])])).Code);
        Assert.AreEqual(DiagnosticCodes.InputRankMismatch,
            Assert.ThrowsExactly<ModelBuildException>(() => Validator.Validate([(TensorDType.F32, [3L, 4]), (TensorDType.F32, [3L, 20])])).Code);
    }

    [TestMethod]
    public void Validate_AnAffineDimBindingItsSymbolOutOfRange_SaysWhichValue()
    {
        var validator = new InputShapeValidator(new EngineManifest
        {
            Name = "m",
            Source = new ManifestSource("pt2", "m.pt2", "", null),
            Toolchain = new ManifestToolchain("0", "0", "0"),
            Target = new ManifestTarget("cpu", null, "fp32"),
            Inputs = [new ManifestTensor("y", "F32", ["2*s27"])],
            Outputs = [],
            Symbols = new Dictionary<string, ManifestSymbol> { ["s27"] = new(1, 5, 64) },
            Relations = [],
            Validation = [],
            RuntimeVersions = "[0.1.0, )",
            PayloadSha256 = "",
        });

        var e = Assert.ThrowsExactly<ModelBuildException>(() => validator.Validate([(TensorDType.F32, [130L])]));

        Assert.AreEqual("MB5003: input 'y' dim 0 (2*s27) = 130 gives symbol s27 = 65, which is outside the compiled range 1..64.", e.Message);
    }

    private static (TensorDType, IReadOnlyList<long>)[] Inputs(long[] x, long[] y) => [(TensorDType.F32, x), (TensorDType.F32, y)];
}
