using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

[TestClass]
public sealed class OnnxReaderTests
{
    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void Read_ReportsInputsWithDTypesAndNamedDims_AndTheOpset(string model)
    {
        var expected = FixtureExpectations.Load(model);
        var pt2 = ModelReader.Read(TestPaths.Fixture(model, "model.pt2"));

        var graph = ModelReader.Read(TestPaths.Fixture(model, "model.onnx"));

        Assert.AreEqual("onnx", graph.Source.Format);
        Assert.IsTrue(graph.RangesFromUser);
        StringAssert.StartsWith(graph.Source.SchemaVersion, "opset ");
        CollectionAssert.AreEqual(expected.Inputs.Select(i => $"{i.Name}:{i.DType}").ToList(),
            graph.Inputs.Select(i => $"{i.Name}:{i.Meta.DType}").ToList());
        // Same dims as the PT2 program: constants where it has constants, a named dim where it has a symbol.
        foreach (var (onnx, program) in graph.Inputs.Zip(pt2.Inputs))
        {
            Assert.AreEqual(program.Meta.Rank, onnx.Meta.Rank, onnx.Name);
            foreach (var (o, p) in onnx.Meta.Sizes.Zip(program.Meta.Sizes))
            {
                Assert.AreEqual(p.IsStatic, o.IsStatic, $"{onnx.Name}: {o} vs {p}");
                if (p.IsStatic)
                {
                    Assert.AreEqual(p.Value, o.Value);
                }
            }
        }
        Assert.AreEqual(pt2.Outputs.Count, graph.Outputs.Count);
        Assert.IsTrue(graph.Nodes.Count > 0);
        Assert.IsTrue(graph.Weights.All(w => w.Read().Length == w.Meta.Sizes.Aggregate(1L, (a, d) => a * d.Value!.Value) * Engine.Safetensors.TensorDTypes.ElementSize(w.Meta.DType)));
    }
}
