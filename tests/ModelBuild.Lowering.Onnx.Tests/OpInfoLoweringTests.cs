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
        var mismatches = lowered.Where(r => r.Mismatch is not null).Select(r => $"{r.File} ({string.Join(", ", r.Targets)}): {r.Mismatch}").ToList();

        Assert.IsEmpty(mismatches, $"{mismatches.Count} of {lowered.Count} lowered programs differ from PyTorch:\n" + string.Join("\n", mismatches));
        Assert.IsGreaterThan(600, lowered.Count, "the OpInfo programs that lower");
    }

    /// <summary>The targets the OpInfo programs that lower correctly and the fixtures' graphs exercise.</summary>
    internal static HashSet<string> Exercised()
    {
        var exercised = OpInfoPrograms.Results.Where(r => r.NotLowered is null && r.Mismatch is null).SelectMany(r => r.Targets).ToHashSet(StringComparer.Ordinal);
        foreach (var model in TestPaths.AllModelsWithExtra.Select(m => (string)m[0]))
        {
            foreach (var file in new[] { "model.pt2", "model.core.pt2" }.Where(f => TestPaths.HasFixture(model, f)))
            {
                exercised.UnionWith(OpInfoPrograms.LoweredTargets(ModelReader.Read(TestPaths.Fixture(model, file))));
            }
        }
        return exercised;
    }
}
