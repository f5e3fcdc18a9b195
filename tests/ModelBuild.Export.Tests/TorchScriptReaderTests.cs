using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

[TestClass]
public sealed class TorchScriptReaderTests
{
    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void Read_ReportsForwardInputsAndWeights_AndThatRangesMustComeFromTheUser(string model)
    {
        var expected = FixtureExpectations.Load(model);

        var graph = ModelReader.Read(TestPaths.Fixture(model, "model.ts.pt"));

        Assert.AreEqual("torchscript", graph.Source.Format);
        Assert.IsTrue(graph.RangesFromUser);
        Assert.AreEqual(0, graph.Nodes.Count);
        Assert.AreEqual(0, graph.Symbols.Count);
        CollectionAssert.AreEqual(expected.Inputs.Select(i => $"{i.Name}:{i.DType}").ToList(),
            graph.Inputs.Select(i => $"{i.Name}:{i.Meta.DType}").ToList());
        Assert.IsTrue(graph.Inputs.All(i => i.Meta.Rank == 0), "TorchScript records no ranks or dims");
        CollectionAssert.AreEqual(expected.OptInputShapes.Select(s => string.Join("x", s)).ToList(),
            graph.ExampleInputShapes!.Select(s => string.Join("x", s)).ToList());
    }

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void Read_GivesTheSameWeightBytesAsThePt2Archive(string model)
    {
        var ts = ModelReader.Read(TestPaths.Fixture(model, "model.ts.pt"));
        var pt2 = ModelReader.Read(TestPaths.Fixture(model, "model.pt2"));

        // Tracing also keeps the tensors it baked into the code (CONSTANTS.c0, ...), which the PT2 graph computes instead.
        CollectionAssert.AreEquivalent(pt2.Weights.Select(w => w.StateName).ToList(),
            ts.Weights.Where(w => !w.StateName.StartsWith("CONSTANTS.", StringComparison.Ordinal)).Select(w => w.StateName).ToList());
        Assert.IsTrue(ts.Weights.Where(w => w.StateName.StartsWith("CONSTANTS.", StringComparison.Ordinal)).All(w => w.Read().Length > 0));
        foreach (var w in pt2.Weights)
        {
            var t = ts.Weights.Single(x => x.StateName == w.StateName);
            Assert.AreEqual(w.Kind, t.Kind, w.StateName);
            CollectionAssert.AreEqual(w.Read().ToArray(), t.Read().ToArray(), w.StateName);
        }
    }
}
