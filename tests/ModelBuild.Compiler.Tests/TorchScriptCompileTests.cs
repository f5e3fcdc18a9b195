using System.Globalization;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Runtime;
using ModelBuild.Tests;

namespace ModelBuild.Compiler.Tests;

/// <summary>TorchScript has no ranges: it compiles when --shape gives every dim, and its engine runs the module.</summary>
[TestClass]
public sealed class TorchScriptCompileTests
{
    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void Compile_WithEveryRangeGiven_ValidatesAgainstTheModuleAndEveryCase(string model)
    {
        var shapes = ShapesOf(FixtureEngines.Get(model, "model.pt2").Manifest);

        var engine = ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture(model, "model.ts.pt"))
        {
            Shapes = shapes,
            CasesPath = TestPaths.Fixture(model, "cases.safetensors"),
        });

        Assert.AreEqual("torchscript", engine.Manifest.Source.Format);
        Assert.IsTrue(engine.Manifest.Validation.Any(v => v.ComparedWith == "cases"));
        Assert.IsTrue(engine.Manifest.Validation.Any(v => v.ComparedWith == "torchscript"));
        using var compiled = CompiledModel.Load(engine.Bytes, model);
        Assert.AreEqual(engine.Manifest.Inputs.Count, compiled.Manifest.Inputs.Count);
    }

    [TestMethod]
    public void Compile_WithoutShapes_AsksForEveryDim()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture("mlp", "model.ts.pt"))));

        Assert.AreEqual(DiagnosticCodes.TorchScriptNeedsShapes, e.Code);
        StringAssert.Contains(e.Message, "--shape");
    }

    [TestMethod]
    public void Compile_WithADimMissing_NamesIt()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture("mlp", "model.ts.pt"))
        {
            Shapes = [ShapeOption.Parse("x:1=32", "m")],
        }));

        Assert.AreEqual(DiagnosticCodes.TorchScriptNeedsShapes, e.Code);
        StringAssert.Contains(e.Message, "dims 0 are missing");
    }

    /// <summary>The --shape options that give a TorchScript compile the ranges of the fixture's exported program.</summary>
    private static List<ShapeOption> ShapesOf(ModelBuild.Engine.Manifest.EngineManifest manifest)
    {
        var shapes = new List<ShapeOption>();
        foreach (var input in manifest.Inputs)
        {
            for (var d = 0; d < input.Dims.Count; d++)
            {
                if (long.TryParse(input.Dims[d], NumberStyles.Integer, CultureInfo.InvariantCulture, out var size))
                {
                    shapes.Add(new ShapeOption(input.Name, d, size, size, size));
                    continue;
                }
                var expr = SymExpr.Parse(input.Dims[d]);
                long At(Func<ModelBuild.Engine.Manifest.ManifestSymbol, long> pick) => expr.Evaluate(manifest.Symbols.ToDictionary(kv => kv.Key, kv => pick(kv.Value)));
                shapes.Add(new ShapeOption(input.Name, d, At(s => s.Min), At(s => s.Opt), At(s => s.Max)));
            }
        }
        return shapes;
    }
}
