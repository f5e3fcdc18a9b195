using ModelBuild.Export;
using ModelBuild.Tests;

namespace ModelBuild.Lowering.Onnx.Tests;

/// <summary>The lowering against PyTorch itself: its OpInfo samples, run in ONNX Runtime, reproduce PyTorch's outputs.</summary>
[TestClass]
public sealed class OpInfoLoweringTests
{
    [TestMethod]
    public void EveryOpInfoProgramThatLowers_ReproducesPyTorchsOutputs()
    {
        var lowered = OpInfoPrograms.Results.Where(r => r.NotLowered is null).ToList();
        foreach (var reason in OpInfoPrograms.Results.Where(r => r.NotLowered is not null).GroupBy(r => r.NotLowered!.Split(':')[0] + ": " + (r.NotLowered!.Contains("rule") ? r.NotLowered.Split(':').Last() : "")).OrderByDescending(g => g.Count()))
        {
            Console.WriteLine($"{reason.Count(),5} {reason.Key}");
        }
        var mismatches = lowered.Where(r => r.Mismatch is not null).Select(r => $"{r.File} ({string.Join(", ", r.Targets)}): {r.Mismatch}").ToList();

        Assert.IsEmpty(mismatches, $"{mismatches.Count} of {lowered.Count} lowered programs differ from PyTorch:\n" + string.Join("\n", mismatches));
        Assert.IsGreaterThan(OpInfoPrograms.Results.Count / 2, lowered.Count, "most OpInfo programs lower");
    }

    /// <summary>A rule no program or fixture exercises would be a rule nothing checks (Torch-TensorRT's per-converter tests are the model).</summary>
    [TestMethod]
    public void EveryRule_IsExercisedByAnOpInfoProgramOrAFixture()
    {
        var exercised = OpInfoPrograms.Results.Where(r => r.NotLowered is null && r.Mismatch is null).SelectMany(r => r.Targets).ToHashSet(StringComparer.Ordinal);
        foreach (var model in TestPaths.AllModelsWithExtra.Select(m => (string)m[0]))
        {
            foreach (var file in new[] { "model.pt2", "model.core.pt2" }.Where(f => TestPaths.HasFixture(model, f)))
            {
                exercised.UnionWith(OpInfoPrograms.LoweredTargets(ModelReader.Read(TestPaths.Fixture(model, file))));
            }
        }

        var unexercised = OnnxLowering.Targets.Where(t => !exercised.Contains(t)).Order(StringComparer.Ordinal).ToList();

        Assert.IsEmpty(unexercised, $"rules no OpInfo program or fixture exercises:\n{string.Join("\n", unexercised)}");
    }
}
