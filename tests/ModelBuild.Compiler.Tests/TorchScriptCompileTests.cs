using System.Globalization;
using ModelBuild.Compiler.Shapes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
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
        var exported = FixtureEngines.Get(model, "model.pt2").Manifest;

        Assert.AreEqual("torchscript", engine.Manifest.Source.Format);
        Assert.IsTrue(engine.Manifest.Validation.Any(v => v.ComparedWith == "cases"));
        Assert.IsTrue(engine.Manifest.Validation.Any(v => v.ComparedWith == "torchscript"));
        using var compiled = CompiledModel.Load(engine.Bytes, model);
        CollectionAssert.AreEqual(exported.Inputs.Select(i => (i.Name, i.DType)).ToList(), compiled.Manifest.Inputs.Select(i => (i.Name, i.DType)).ToList());
    }

    [TestMethod]
    public void Compile_WithoutShapes_AsksForEveryDim()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture("mlp", "model.ts.pt"))));

        Assert.AreEqual(DiagnosticCodes.TorchScriptNeedsShapes, e.Code);
        StringAssert.Contains(e.Message, "--shape");
    }

    [TestMethod]
    public void Compile_WithOnlyTheBatchRanged_KeepsTheOtherDimsStaticAtTheTracedSize()
    {
        var engine = ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture("transformer_block", "model.ts.pt"))
        {
            Shapes = [ShapeOption.Parse("ids:0=1..4..16", "m")],
        });

        var ids = engine.Manifest.Inputs.Single();
        Assert.AreEqual("ids", ids.Name);
        Assert.AreEqual("I64", ids.DType, "the traced dtype");
        Assert.AreEqual("ids_0", ids.Dims[0]);
        Assert.IsTrue(long.TryParse(ids.Dims[1], out _), "the sequence length is static at the traced size");
        Assert.AreEqual(new ModelBuild.Engine.Manifest.ManifestSymbol(1, 4, 16), engine.Manifest.Symbols["ids_0"]);
    }

    [TestMethod]
    public void Compile_AnInputTheForwardDoesNotTake_IsNamed()
    {
        var e = Assert.ThrowsExactly<ModelBuildException>(() => ModelCompiler.Compile(new CompileOptions(TestPaths.Fixture("mlp", "model.ts.pt"))
        {
            Shapes = [ShapeOption.Parse("y:0=1..8", "m")],
        }));

        Assert.AreEqual(DiagnosticCodes.ShapeOptionUnknownDim, e.Code);
        StringAssert.Contains(e.Message, "'x'");
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
