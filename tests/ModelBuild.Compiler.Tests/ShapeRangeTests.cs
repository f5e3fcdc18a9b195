using ModelBuild.Compiler.Shapes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Manifest;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler.Tests;

[TestClass]
public sealed class ShapeRangeTests
{
    [TestMethod]
    [DataRow("x:0=1..8..32", "x", 0, 1L, 8L, 32L)]
    [DataRow("x:2=4..64", "x", 2, 4L, null, 64L)]
    [DataRow("input_ids:1=7", "input_ids", 1, 7L, 7L, 7L)]
    public void ShapeOption_Parses(string text, string input, int dim, long min, long? opt, long max) =>
        Assert.AreEqual(new ShapeOption(input, dim, min, opt, max), ShapeOption.Parse(text, "m.pt2"));

    [TestMethod]
    [DataRow("x=1..8", DiagnosticCodes.ShapeOptionMalformed)]
    [DataRow("x:0=1..2..3..4", DiagnosticCodes.ShapeOptionMalformed)]
    [DataRow("x:0=8..4", DiagnosticCodes.ShapeRangeDisordered)]
    [DataRow("x:0=1..40..32", DiagnosticCodes.ShapeRangeDisordered)]
    public void ShapeOption_RejectsMalformedOrDisorderedText(string text, string code) =>
        Assert.AreEqual(code, Assert.ThrowsExactly<ModelBuildException>(() => ShapeOption.Parse(text, "m.pt2")).Code);

    [TestMethod]
    public void Resolve_WithoutOptions_TakesTheArchiveRangesAndTheExampleAsOpt()
    {
        var graph = TwoInputs(exampleShapes: [[4, 5, 8], [4, 10, 8]]);

        var ranges = ShapeRangeResolver.Resolve(graph, [], "m.pt2");

        Assert.AreEqual(new ManifestSymbol(1, 4, 32), ranges.Symbols["s17"]);
        Assert.AreEqual(new ManifestSymbol(1, 5, 64), ranges.Symbols["s27"]);
        Assert.AreEqual(new ManifestRelation("2*s27", 2, 128), ranges.Relations.Single());
    }

    [TestMethod]
    public void Resolve_NarrowsBySymbolDim_AndByAnAffineDimSolvedForItsSymbol()
    {
        var graph = TwoInputs(exampleShapes: null);

        var ranges = ShapeRangeResolver.Resolve(graph, [ShapeOption.Parse("x:0=2..4..16", "m"), ShapeOption.Parse("y:1=4..8..20", "m")], "m.pt2");

        Assert.AreEqual(new ManifestSymbol(2, 4, 16), ranges.Symbols["s17"]);
        Assert.AreEqual(new ManifestSymbol(2, 4, 10), ranges.Symbols["s27"]);
    }

    [TestMethod]
    public void Resolve_OptDefaultsToTheMin_WithoutAnExample()
    {
        var ranges = ShapeRangeResolver.Resolve(TwoInputs(exampleShapes: null), [], "m.pt2");

        Assert.AreEqual(1, ranges.Symbols["s17"].Opt);
    }

    [TestMethod]
    public void Resolve_AWideningOption_FailsNamingTheArchiveRange()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() =>
            ShapeRangeResolver.Resolve(TwoInputs(null), [ShapeOption.Parse("x:0=1..64", "m")], "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.ShapeRangeWidened, e.Code);
        StringAssert.Contains(e.Message, "1..32");
        StringAssert.Contains(e.Message, "s17");
    }

    [TestMethod]
    public void Resolve_AnUnboundedSymbolWithoutAnOption_AsksForTheShapeOptionOrTheItemMetadata()
    {
        var graph = new HandBuiltGraph().Input("x", TensorDType.F32, "s0", "4").Symbol("s0", 2, null).Build("x");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ShapeRangeResolver.Resolve(graph, [], "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.ShapeRangeUnbounded, e.Code);
        StringAssert.Contains(e.Message, "input 'x' dim 0 (symbol s0)");
        StringAssert.Contains(e.Message, "--shape x:0=2..<opt>..<max>");
        StringAssert.Contains(e.Message, "Shapes=\"x:0=2..<opt>..<max>\"");
    }

    [TestMethod]
    public void Resolve_AnUnboundedSymbolWithAnOption_TakesIt()
    {
        var graph = new HandBuiltGraph().Input("x", TensorDType.F32, "s0", "4").Symbol("s0", 2, null).Build("x");

        var ranges = ShapeRangeResolver.Resolve(graph, [ShapeOption.Parse("x:0=2..1000", "m")], "m.pt2");

        Assert.AreEqual(new ManifestSymbol(2, 2, 1000), ranges.Symbols["s0"]);
    }

    [TestMethod]
    [DataRow("z:0=1..2", DiagnosticCodes.ShapeOptionUnknownDim)]
    [DataRow("x:3=1..2", DiagnosticCodes.ShapeOptionUnknownDim)]
    [DataRow("x:2=1..2", DiagnosticCodes.ShapeOptionNotSymbolic)]
    [DataRow("y:1=3..8", DiagnosticCodes.ShapeOptionNotSymbolic)]
    public void Resolve_AnOptionForAMissingStaticOrUnsolvableDim_Fails(string option, string code) =>
        Assert.AreEqual(code, Assert.ThrowsExactly<ModelBuildException>(() =>
            ShapeRangeResolver.Resolve(TwoInputs(null), [ShapeOption.Parse(option, "m")], "m.pt2")).Code);

    [TestMethod]
    public void Resolve_TwoOptionsForOneSymbol_Conflict() =>
        Assert.AreEqual(DiagnosticCodes.ShapeRangeConflict, Assert.ThrowsExactly<ModelBuildException>(() =>
            ShapeRangeResolver.Resolve(TwoInputs(null), [ShapeOption.Parse("x:1=1..8", "m"), ShapeOption.Parse("y:1=2..8", "m")], "m.pt2")).Code);

    /// <summary>The shapes of the multi_io fixture: x [s17, s27, 8], y [s17, 2*s27, 8].</summary>
    private static ModelGraph TwoInputs(IReadOnlyList<IReadOnlyList<long>>? exampleShapes)
    {
        var g = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "s17", "s27", "8")
            .Input("y", TensorDType.F32, "s17", "2*s27", "8")
            .Symbol("s17", 1, 32).Symbol("s27", 1, 64).Relation("2*s27", 2, 128)
            .Build("x");
        return exampleShapes is null ? g : new ModelGraph
        {
            Name = g.Name, Source = g.Source, Inputs = g.Inputs, Outputs = g.Outputs, Nodes = g.Nodes, Weights = g.Weights,
            Values = g.Values, Symbols = g.Symbols, Relations = g.Relations, ExampleInputShapes = exampleShapes,
        };
    }
}
