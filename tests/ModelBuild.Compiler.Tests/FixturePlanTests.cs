using ModelBuild.Engine.Container;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>The passes act on the real fixtures: what the engine's plan no longer contains.</summary>
[TestClass]
public sealed class FixturePlanTests
{
    [TestMethod]
    [DataRow("model.pt2")]
    [DataRow("model.core.pt2")]
    public void SmallCnn_BatchNormsAreFoldedIntoTheirConvolutions(string format)
    {
        var plan = EngineFile.Read(FixtureEngines.Get("small_cnn", format).Bytes, "small_cnn", CompiledModel.RuntimeVersion).Plan.Blocks.Single();

        Assert.IsFalse(plan.Nodes!.Any(n => n.Target.Contains("batch_norm", StringComparison.Ordinal)), string.Join(", ", plan.Nodes!.Select(n => n.Target)));
        Assert.IsFalse(plan.Weights.Any(w => w.Contains("running_mean", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void CoreMlp_WeightTransposesAreFoldedIntoConstants()
    {
        var plan = EngineFile.Read(FixtureEngines.Get("mlp", "model.core.pt2").Bytes, "mlp", CompiledModel.RuntimeVersion).Plan.Blocks.Single();

        Assert.IsFalse(plan.Nodes!.Any(n => n.Target == "torch.ops.aten.permute.default"), string.Join(", ", plan.Nodes!.Select(n => n.Target)));
    }

    [TestMethod]
    public void EveryIntermediateIsFreedOnce_AndNoInputWeightOrOutputIs()
    {
        var plan = EngineFile.Read(FixtureEngines.Get("transformer_block", "model.core.pt2").Bytes, "t", CompiledModel.RuntimeVersion).Plan.Blocks.Single();

        var freed = plan.FreeAfter.SelectMany(f => f).ToList();
        Assert.HasCount(freed.Distinct().Count(), freed);
        Assert.IsFalse(freed.Intersect(plan.Inputs.Concat(plan.Weights).Concat(plan.Outputs)).Any());
        Assert.IsGreaterThan(10, freed.Count);
    }
}
