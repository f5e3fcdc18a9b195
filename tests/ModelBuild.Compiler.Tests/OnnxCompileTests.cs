using ModelBuild.Compiler.Shapes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Export;
using ModelBuild.Runtime;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>ONNX files (PyTorch's own export of the public fixtures) compile into one ONNX Runtime block, with ranges from --shape.</summary>
[TestClass]
public sealed class OnnxCompileTests
{
    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void Compile_OfPyTorchsOnnxExport_IsOneOnnxRuntimeBlock_ValidatedAgainstOnnxRuntimeAndTheCases(string model)
    {
        var file = TestPaths.Fixture(model, "model.onnx");
        var casesPath = TestPaths.Fixture(model, "cases.safetensors");

        var engine = ModelCompiler.Compile(new CompileOptions(file) { Shapes = ShapesFromCases(file, casesPath), CasesPath = casesPath });

        var plan = EngineFile.Read(engine.Bytes, file, CompiledModel.RuntimeVersion).Plan;
        Assert.AreEqual("onnxruntime", plan.Blocks.Single().Backend);
        Assert.AreEqual("onnx", engine.Manifest.Source.Format);
        var compared = engine.Manifest.Validation.Select(v => v.ComparedWith).Distinct().Order().ToList();
        CollectionAssert.AreEqual(new[] { "cases", "onnxruntime" }, compared);
        CollectionAssert.IsSubsetOf(CasesFile.Read(SafetensorsFile.Read(casesPath), casesPath).Select(c => c.Name).ToList(),
            engine.Manifest.Validation.Where(v => v.ComparedWith == "cases").Select(v => v.Name).ToList());
    }

    [TestMethod]
    public void Compile_OfAnOnnxModel_WithoutARangeForANamedDim_NamesTheDimAndTheOptionToGive()
    {
        var file = TestPaths.Fixture("multi_io", "model.onnx");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(file) { Shapes = [new ShapeOption("x", 0, 1, 2, 4)] }));

        Assert.AreEqual(DiagnosticCodes.OnnxDimWithoutRange, e.Code);
        Assert.AreEqual(file, e.File);
        StringAssert.Contains(e.Message, "input 'x' dim 1 is the named dim 'seqlen'");
        StringAssert.Contains(e.Message, "--shape x:1=<min>..<opt>..<max>");
    }

    [TestMethod]
    public void Compile_OfAnOnnxModel_ForTheTorchBackend_IsACodedError()
    {
        var file = TestPaths.Fixture("seed_linear_static", "model.onnx");

        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(file) { Backend = "torch" }));

        Assert.AreEqual(DiagnosticCodes.OptionInvalid, e.Code);
        StringAssert.Contains(e.Message, "onnxruntime");
    }

    /// <summary>
    /// A --shape for the first dim that uses each named dim, from the sizes the cases give it (min and max over the
    /// cases, opt from the case named opt).
    /// </summary>
    internal static IReadOnlyList<ShapeOption> ShapesFromCases(string onnxFile, string casesPath)
    {
        var graph = ModelReader.Read(onnxFile);
        var file = SafetensorsFile.Read(casesPath);
        var cases = CasesFile.Read(file, casesPath);
        var ranged = new HashSet<string>(StringComparer.Ordinal);
        var options = new List<ShapeOption>();
        for (var i = 0; i < graph.Inputs.Count; i++)
        {
            var sizes = graph.Inputs[i].Meta.Sizes;
            for (var d = 0; d < sizes.Count; d++)
            {
                if (sizes[d].Expr is not { } expr || SymExpr.Parse(expr).Symbols.All(ranged.Contains))
                {
                    continue;
                }
                ranged.UnionWith(SymExpr.Parse(expr).Symbols);
                var seen = cases.Select(c => (c.Name, Size: file.Entry(c.Inputs[i]).Shape[d])).ToList();
                options.Add(new ShapeOption(graph.Inputs[i].Name, d, seen.Min(s => s.Size), seen.FirstOrDefault(s => s.Name == "opt").Size is > 0 and var opt ? opt : null, seen.Max(s => s.Size)));
            }
        }
        return options;
    }
}
