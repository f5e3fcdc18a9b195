using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Tests;

namespace ModelBuild.Export.Tests;

[TestClass]
public sealed class Pt2ArchiveReaderTests
{
    public static IEnumerable<object[]> Pt2Files =>
        TestPaths.AllModels.SelectMany(m => new[] { "model.pt2", "model.core.pt2", "model.legacy.pt2" }.Select(f => new object[] { m[0], f }));

    [TestMethod]
    [DynamicData(nameof(Pt2Files))]
    public void Read_ReportsTheInputsDTypesAndRangeConstraintsOfFixtureJson(string model, string file)
    {
        var expected = FixtureExpectations.Load(model);

        var graph = ModelReader.Read(TestPaths.Fixture(model, file));

        CollectionAssert.AreEqual(expected.Inputs.Select(i => $"{i.Name}:{i.DType}").ToList(),
            graph.Inputs.Select(i => $"{i.Name}:{i.Meta.DType}").ToList());
        var actual = graph.Symbols.Select(s => (s.Key, s.Value.Min, s.Value.Max))
            .Concat(graph.Relations.Select(r => (Key: r.Expr, r.Min, r.Max)))
            .ToDictionary(x => x.Key, x => (x.Min, x.Max!.Value));
        CollectionAssert.AreEquivalent(expected.RangeConstraints.ToList(), actual.ToList());
        Assert.AreEqual("pt2", graph.Source.Format);
        Assert.AreEqual("8.17", graph.Source.SchemaVersion);
        Assert.AreEqual("2.11.0+cu130", graph.Source.TorchVersion);
    }

    [TestMethod]
    [DynamicData(nameof(Pt2Files))]
    public void Read_GivesEveryInputDimAsAConstantOrAnExpressionOfRangedSymbols_MatchingTheOptCase(string model, string file)
    {
        var expected = FixtureExpectations.Load(model);
        var graph = ModelReader.Read(TestPaths.Fixture(model, file));

        Assert.IsNotNull(graph.ExampleInputShapes);
        CollectionAssert.AreEqual(expected.OptInputShapes.Select(s => string.Join("x", s)).ToList(),
            graph.ExampleInputShapes.Select(s => string.Join("x", s)).ToList());
        var bindings = new Dictionary<string, long>();
        foreach (var (input, shape) in graph.Inputs.Zip(graph.ExampleInputShapes))
        {
            Assert.AreEqual(shape.Count, input.Meta.Rank);
            foreach (var (dim, size) in input.Meta.Sizes.Zip(shape))
            {
                if (!dim.IsStatic && SymExpr.Parse(dim.Expr!).TrySolveFor(size, out var symbol, out var value))
                {
                    bindings[symbol] = value;
                }
            }
        }
        foreach (var (input, shape) in graph.Inputs.Zip(graph.ExampleInputShapes))
        {
            foreach (var (dim, size) in input.Meta.Sizes.Zip(shape))
            {
                var expr = dim.IsStatic ? SymExpr.Integer(dim.Value!.Value) : SymExpr.Parse(dim.Expr!);
                Assert.IsTrue(expr.Symbols.All(graph.Symbols.ContainsKey), $"{expr} has a symbol without range");
                Assert.AreEqual(size, expr.Evaluate(bindings), $"{input.Name}: {expr}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Pt2Files))]
    public void Read_GivesEveryWeightItsContiguousBytes(string model, string file)
    {
        var graph = ModelReader.Read(TestPaths.Fixture(model, file));

        Assert.IsTrue(graph.Weights.Count > 0);
        foreach (var w in graph.Weights)
        {
            var count = w.Meta.Sizes.Aggregate(1L, (a, d) => a * d.Value!.Value);
            Assert.AreEqual(count * w.Meta.DType.ElementSize(), w.Read().Length, w.StateName);
            Assert.AreSame(graph.Values[w.ValueName], w.Meta);
        }
    }

    [TestMethod]
    [DynamicData(nameof(TestPaths.AllModels), typeof(TestPaths))]
    public void CurrentLegacyAndCoreArchives_GiveTheSameInputsRangesAndBitIdenticalWeights(string model)
    {
        var current = ModelReader.Read(TestPaths.Fixture(model, "model.pt2"));
        var legacy = ModelReader.Read(TestPaths.Fixture(model, "model.legacy.pt2"));
        var core = ModelReader.Read(TestPaths.Fixture(model, "model.core.pt2"));

        foreach (var other in new[] { legacy, core })
        {
            AssertSameProgram(current, other);
        }
    }

    [TestMethod]
    public void LegacyArchive_WithAConstantPickledAsATensorSubclass_ReadsLikeTheCurrentLayout()
    {
        // BERT's position_ids buffer is saved with torch._tensor._rebuild_from_type_v2 in serialized_constants.pt.
        var current = ModelReader.Read(TestPaths.Fixture("bert_tiny", "model.pt2"));
        var legacy = ModelReader.Read(TestPaths.Fixture("bert_tiny", "model.legacy.pt2"));

        AssertSameProgram(current, legacy);
        Assert.IsTrue(legacy.Weights.Any(w => w.StateName == "m.embeddings.position_ids"), "the buffer pickled through _rebuild_from_type_v2");
    }

    private static void AssertSameProgram(ModelGraph current, ModelGraph other)
    {
        Assert.AreEqual(Describe(current.Inputs), Describe(other.Inputs));
        Assert.AreEqual(Describe(current.Outputs.Select(o => o with { Name = "" })), Describe(other.Outputs.Select(o => o with { Name = "" })));
        CollectionAssert.AreEquivalent(current.Symbols.ToList(), other.Symbols.ToList());
        CollectionAssert.AreEquivalent(current.Relations.ToList(), other.Relations.ToList());
        CollectionAssert.AreEquivalent(current.Weights.Select(w => w.StateName).ToList(), other.Weights.Select(w => w.StateName).ToList());
        foreach (var w in current.Weights)
        {
            var o = other.Weights.Single(x => x.StateName == w.StateName);
            Assert.AreEqual(w.Meta.DType, o.Meta.DType);
            CollectionAssert.AreEqual(w.Read().ToArray(), o.Read().ToArray(), w.StateName);
        }
    }

    private static string Describe(IEnumerable<GraphValue> values) =>
        string.Join("; ", values.Select(v => $"{v.Name}:{v.Meta.DType}[{string.Join(", ", v.Meta.Sizes)}]"));

    [TestMethod]
    public void Read_SeedLinearStatic_HasNoSymbolsAndStaticDims()
    {
        var graph = ModelReader.Read(TestPaths.Fixture("seed_linear_static", "model.pt2"));

        Assert.AreEqual(0, graph.Symbols.Count);
        Assert.AreEqual(0, graph.Relations.Count);
        CollectionAssert.AreEqual(new[] { "3", "5" }, graph.Inputs[0].Meta.Sizes.Select(d => d.ToString()).ToList());
        CollectionAssert.AreEqual(new[] { "3", "7" }, graph.Outputs[0].Meta.Sizes.Select(d => d.ToString()).ToList());
        CollectionAssert.AreEquivalent(new[] { "weight", "bias" }, graph.Weights.Select(w => w.StateName).ToList());
    }

    [TestMethod]
    public void Read_SeedLinearDynamic_KeepsTheBatchSymbolAndItsRange()
    {
        var graph = ModelReader.Read(TestPaths.Fixture("seed_linear_dynamic", "model.pt2"));

        Assert.AreEqual(new SymbolRange(1, 64), graph.Symbols["s31"]);
        CollectionAssert.AreEqual(new[] { "s31", "5" }, graph.Inputs[0].Meta.Sizes.Select(d => d.ToString()).ToList());
        CollectionAssert.AreEqual(new[] { "s31", "7" }, graph.Outputs[0].Meta.Sizes.Select(d => d.ToString()).ToList());
    }

    [TestMethod]
    public void Read_SmallCnn_KeepsDerivedDimsAsExpressionsAndRelations()
    {
        var graph = ModelReader.Read(TestPaths.Fixture("small_cnn", "model.pt2"));

        CollectionAssert.AreEqual(new[] { "s77", "3", "8*s69", "8*s81" }, graph.Inputs[0].Meta.Sizes.Select(d => d.ToString()).ToList());
        CollectionAssert.AreEquivalent(new[] { new RelationRange("8*s69", 16, 128), new RelationRange("8*s81", 16, 128) }, graph.Relations.ToList());
        var conv = graph.Nodes.First(n => n.Target == "torch.ops.aten.conv2d.default");
        Assert.AreEqual(new TensorArg("x"), conv.Inputs.Single(i => i.Name == "input").Value);
        CollectionAssert.AreEqual(new long[] { 1, 1 }, ((IntsArg)conv.Inputs.Single(i => i.Name == "padding").Value).Values.ToList());
        StringAssert.Contains(conv.Origin, "conv.py, line 553, in forward: return self._conv_forward(");
    }

    [TestMethod]
    public void Read_TransformerBlock_KeepsSymIntNodesAndKwargOnlyArguments()
    {
        var graph = ModelReader.Read(TestPaths.Fixture("transformer_block", "model.pt2"));

        var symSize = graph.Nodes.First(n => n.Target == "torch.ops.aten.sym_size.int");
        var output = ((SymIntArg)symSize.Outputs[0]).Value.Name!;
        Assert.IsTrue(graph.SymIntValues[output] is "s23" or "s27");
        var arange = graph.Nodes.First(n => n.Target.StartsWith("torch.ops.aten.arange", StringComparison.Ordinal));
        Assert.IsTrue(arange.Inputs.Single(i => i.Name == "device").KwargOnly);
        Assert.AreEqual(new DeviceArg("cpu", null), arange.Inputs.Single(i => i.Name == "device").Value);
        Assert.AreEqual(TensorDType.I64, graph.Inputs[0].Meta.DType);
    }
}
