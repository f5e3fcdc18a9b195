using ModelBuild.Compiler.Passes;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Compiler.Tests.HandBuiltGraph;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>wrap_with_set_grad_enabled regions replaced by their subgraphs' nodes, with the same results.</summary>
[TestClass]
public sealed class GradModeRegionInliningTests
{
    private const string Aten = "torch.ops.aten.";
    private const string Region = GradModeRegionInlining.Target;

    private static TensorMeta F32(params long[] sizes) => new(TensorDType.F32, [.. sizes.Select(Dim.Of)]);

    private static GraphNode Op(string target, string output, params (string Name, Argument Value)[] inputs) =>
        new(Aten + target, [.. inputs.Select(i => new NamedArgument(i.Name, i.Value))], [new TensorArg(output)]);

    private static GraphNode RegionNode(Subgraph body, Argument[] outputs, params Argument[] operands) =>
        new(Region, [new NamedArgument("", new BoolArg(false)), new NamedArgument("", new GraphArg("submod", body)), .. operands.Select(o => new NamedArgument("", o))], outputs);

    /// <summary>
    /// t = relu(x); (y1, y2) = region(x, w) whose body computes t = a * b, s = region(t) (summing t over dim 1 into a
    /// value named t again), u = s + a, and returns (u, a); out = (y1 + y2) * t. The bodies reuse the graph's name t.
    /// </summary>
    private static ModelGraph Nested()
    {
        var inner = new Subgraph([T("c")], [T("t")],
            [Op("sum.dim_IntList", "t", ("self", T("c")), ("dim", new IntsArg([1])), ("keepdim", new BoolArg(true)))])
        {
            Values = new Dictionary<string, TensorMeta> { ["c"] = F32(2, 3), ["t"] = F32(2, 1) },
        };
        var outer = new Subgraph([T("a"), T("b")], [T("u"), T("a")],
        [
            Op("mul.Tensor", "t", ("self", T("a")), ("other", T("b"))),
            RegionNode(inner, [T("s")], T("t")),
            Op("add.Tensor", "u", ("self", T("s")), ("other", T("a"))),
        ])
        {
            Values = new Dictionary<string, TensorMeta> { ["a"] = F32(2, 3), ["b"] = F32(3), ["t"] = F32(2, 3), ["s"] = F32(2, 1), ["u"] = F32(2, 3) },
        };
        return new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Weight("w", arange(3, dtype: ScalarType.Float32))
            .Node(Aten + "relu.default", "t", ("self", T("x")))
            .Node(Region, [T("y1"), T("y2")], ("", new BoolArg(false)), ("", new GraphArg("submod_1", outer)), ("", T("x")), ("", T("w")))
            .Node(Aten + "add.Tensor", "z", ("self", T("y1")), ("other", T("y2")))
            .Node(Aten + "mul.Tensor", "out", ("self", T("z")), ("other", T("t")))
            .Value("t", TensorDType.F32, "2", "3").Value("y1", TensorDType.F32, "2", "3").Value("y2", TensorDType.F32, "2", "3")
            .Value("z", TensorDType.F32, "2", "3").Value("out", TensorDType.F32, "2", "3")
            .Build("out", "y1");
    }

    private static Tensor[] Execute(ModelGraph graph, Tensor x) =>
        new GraphExecutor(graph.Nodes, [.. graph.Inputs.Select(i => i.Name)], [.. graph.Outputs.Select(o => o.Name)],
            new Dictionary<string, Tensor> { ["w"] = arange(3, dtype: ScalarType.Float32) }, [], CPU).Run([x]);

    [TestMethod]
    public void NestedRegions_BecomeTheGraphsOwnNodes_UnderUniqueNamesWithMetas_AndComputeTheSame()
    {
        using var scope = NewDisposeScope();
        var graph = Nested();

        var inlined = GradModeRegionInlining.Run(graph);

        var written = inlined.Nodes.SelectMany(n => n.Writes()).ToList();
        CollectionAssert.AreEqual(new[] { "relu.default", "mul.Tensor", "sum.dim_IntList", "add.Tensor", "add.Tensor", "mul.Tensor" },
            inlined.Nodes.Select(n => n.Target[Aten.Length..]).ToList());
        CollectionAssert.AllItemsAreUnique(written, "every value is written once");
        Assert.IsTrue(written.All(inlined.Values.ContainsKey), "every value has a meta");
        var sum = inlined.Nodes.Single(n => n.Target == Aten + "sum.dim_IntList");
        CollectionAssert.AreEqual(F32(2, 1).Sizes.ToList(), inlined.Values[sum.DisplayName()].Sizes.ToList(), "the nested body's meta");
        Assert.AreEqual("y1", inlined.Nodes.Single(n => n.Reads().Contains(sum.DisplayName())).DisplayName(), "the computed output keeps the node's name");
        CollectionAssert.AreEqual(new[] { "y1", "x" }, inlined.Nodes.Single(n => n.DisplayName() == "z").Reads().ToList(), "the output that is a body input reads the operand");
        CollectionAssert.AreEqual(new[] { "out", "y1" }, inlined.Outputs.Select(o => o.Name).ToList());

        var x = randn(2, 3, generator: new Generator(3));
        var expected = Execute(graph, x);
        var actual = Execute(inlined, x);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.IsTrue(actual[i].allclose(expected[i], rtol: 0, atol: 0), $"output {i}");
        }
    }

    [TestMethod]
    public void RegionsInsideACondBranch_AndRegionsWithALiteralOperand_Stay()
    {
        var body = new Subgraph([T("a")], [T("r")], [Op("neg.default", "r", ("self", T("a")))]);
        var branch = new Subgraph([T("a")], [T("r")], [RegionNode(body, [T("r")], T("a"))]);
        var scaled = new Subgraph([new SymIntArg(SymInt.Ref("k"))], [T("r")], [Op("ones.default", "r", ("size", new SymIntsArg([SymInt.Ref("k")])))]);
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Node(Aten + "sum.default", "s", ("self", T("x")))
            .Node(Aten + "gt.Scalar", "p", ("self", T("s")), ("other", new IntArg(0)))
            .Node("torch.ops.higher_order.cond", [T("y")], ("", T("p")), ("", new GraphArg("true_graph_0", branch)), ("", new GraphArg("false_graph_0", branch)), ("", new TensorsArg(["x"])))
            .Node(Region, [T("o")], ("", new BoolArg(false)), ("", new GraphArg("submod_2", scaled)), ("", new SymIntArg(SymInt.Of(4))))
            .Node(Aten + "add.Tensor", "z", ("self", T("y")), ("other", T("o")))
            .Build("z");

        Assert.AreSame(graph, GradModeRegionInlining.Run(graph));
    }
}
