using System.Text.Json;
using ModelBuild.Compiler.Validation;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Tests;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>Every public and extra fixture compiles from each graph format and its engine reproduces every case at the fixture's tolerance.</summary>
[TestClass]
public sealed class FixtureCompileTests
{
    [TestMethod]
    [DynamicData(nameof(FixtureEngines.ModelsAndFormats), typeof(FixtureEngines))]
    public void Compile_ValidatesAtMinOptMax_AndEveryCaseOfTheFixture(string model, string format)
    {
        var engine = FixtureEngines.Get(model, format);
        var cases = CasesFile.Read(SafetensorsFile.Read(TestPaths.Fixture(model, "cases.safetensors")), "cases");

        var names = engine.Manifest.Validation.Select(v => v.Name).ToList();
        foreach (var c in cases)
        {
            CollectionAssert.Contains(names, c.Name);
        }
        if (engine.Manifest.Symbols.Count > 0)
        {
            CollectionAssert.IsSubsetOf(new[] { "min", "opt", "max" }, engine.Manifest.Validation.Where(v => v.ComparedWith == "reference").Select(v => v.Name).ToList());
        }
        Assert.IsTrue(engine.Manifest.Validation.All(v => double.IsFinite(v.MaxAbsError) && double.IsFinite(v.MaxRelError)), "every case records its errors");
    }

    [TestMethod]
    [DynamicData(nameof(FixtureEngines.ModelsAndFormats), typeof(FixtureEngines))]
    public void Engine_ReproducesEveryCaseOfTheFixture_AtItsTolerance(string model, string format)
    {
        var engine = FixtureEngines.Get(model, format);
        var cases = SafetensorsFile.Read(TestPaths.Fixture(model, "cases.safetensors"));
        using var fixture = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(model, "fixture.json")));
        var tolerance = Math.Max(fixture.RootElement.GetProperty("atol").GetDouble(), fixture.RootElement.GetProperty("rtol").GetDouble());
        using var compiled = CompiledModel.Load(engine.Bytes, model);

        foreach (var c in CasesFile.Read(cases, "cases"))
        {
            using var scope = NewDisposeScope();
            var outputs = compiled.Run([.. c.Inputs.Select(cases.ToTensor)]);

            Assert.HasCount(c.Outputs.Count, outputs, c.Name);
            for (var j = 0; j < outputs.Length; j++)
            {
                var comparison = OutputComparison.Of(outputs[j], cases.ToTensor(c.Outputs[j]));
                Assert.IsTrue(comparison.Meets(ValidationCriteria.For("fp32", tolerance)), $"{model}/{format} case {c.Name} output {j}: {comparison}");
            }
        }
    }
}
