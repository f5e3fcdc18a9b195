using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>The higher-order operators run their subgraphs through the executor, as torch.export writes them: positional, unnamed arguments.</summary>
[TestClass]
public sealed class HigherOrderKernelTests
{

    private static NamedArgument P(Argument value) => new("", value);

    private static NamedArgument Graph(string name, Subgraph graph) => P(new GraphArg(name, graph));

    /// <summary>A subgraph of single-input nodes: each (target, argument names, output) reads named values.</summary>
    private static Subgraph Sub(string[] inputs, string[] outputs, params GraphNode[] nodes) =>
        new([.. inputs.Select(i => (Argument)new TensorArg(i))], [.. outputs.Select(o => (Argument)new TensorArg(o))], nodes);

    private static GraphNode Unary(string target, string input, string output) => new(Full(target), [T("self", input)], [new TensorArg(output)]);

    private static Tensor[] RunOne(GraphNode node, string[] inputs, params object[] values) =>
        new GraphExecutor([node], inputs, [.. node.Outputs.Select(o => ((TensorArg)o).Name)], new Dictionary<string, Tensor>(), [], CPU).Run(values);

    [TestMethod]
    public void Cond_RunsTheBranchThePredicatePicks_FromATensorOrASymBool()
    {
        using var scope = NewDisposeScope();
        var relu = Sub(["a"], ["r"], Unary("aten.relu.default", "a", "r"));
        var neg = Sub(["a"], ["r"], Unary("aten.neg.default", "a", "r"));
        var x = tensor(new[] { -1f, 2f });
        GraphNode Cond(Argument predicate) => new("torch.ops.higher_order.cond", [P(predicate), Graph("true_graph_0", relu), Graph("false_graph_0", neg), P(new TensorsArg(["x"]))], [new TensorArg("y")]);

        CollectionAssert.AreEqual(new[] { 0f, 2f }, RunOne(Cond(new TensorArg("p")), ["x", "p"], x, tensor(true))[0].data<float>().ToArray());
        CollectionAssert.AreEqual(new[] { 1f, -2f }, RunOne(Cond(new TensorArg("p")), ["x", "p"], x, tensor(false))[0].data<float>().ToArray());
        CollectionAssert.AreEqual(new[] { 1f, -2f }, RunOne(Cond(new SymBoolArg(false, null)), ["x"], x)[0].data<float>().ToArray());
    }

    [TestMethod]
    public void WhileLoop_CarriesItsValuesUntilTheConditionFails()
    {
        using var scope = NewDisposeScope();
        var condition = new Subgraph([new TensorArg("i"), new TensorArg("h"), new TensorArg("w")], [new TensorArg("go")],
            [new GraphNode(Full("aten.lt.Scalar"), [T("self", "i"), I("other", 3)], [new TensorArg("go")])]);
        var body = new Subgraph([new TensorArg("i"), new TensorArg("h"), new TensorArg("w")], [new TensorArg("i1"), new TensorArg("h1")],
        [
            new GraphNode(Full("aten.add.Tensor"), [T("self", "i"), I("other", 1)], [new TensorArg("i1")]),
            new GraphNode(Full("aten.mul.Tensor"), [T("self", "h"), T("other", "w")], [new TensorArg("h1")]),
        ]);
        var node = new GraphNode("torch.ops.higher_order.while_loop", [Graph("cond", condition), Graph("body", body), P(new TensorsArg(["zero", "x"])), P(new TensorsArg(["w"]))],
            [new TensorArg("n"), new TensorArg("y")]);

        var outputs = RunOne(node, ["zero", "x", "w"], tensor(0L), tensor(new[] { 1f, 2f }), tensor(new[] { 2f, 3f }));

        Assert.AreEqual(3L, outputs[0].item<long>());
        CollectionAssert.AreEqual(new[] { 8f, 54f }, outputs[1].data<float>().ToArray());
    }

    [TestMethod]
    public void WhileLoop_ThatNeverRuns_ReturnsItsInputs()
    {
        using var scope = NewDisposeScope();
        var never = new Subgraph([new TensorArg("h")], [new TensorArg("go")], [new GraphNode(Full("aten.lt.Scalar"), [T("self", "h"), I("other", -5)], [new TensorArg("go")])]);
        var body = Sub(["h"], ["h1"], Unary("aten.neg.default", "h", "h1"));
        var node = new GraphNode("torch.ops.higher_order.while_loop", [Graph("cond", never), Graph("body", body), P(new TensorsArg(["x"])), P(new TensorsArg([]))], [new TensorArg("y")]);
        var x = tensor(3f);

        var y = RunOne(node, ["x"], x)[0];

        Assert.AreEqual(3f, y.item<float>());
        Assert.IsFalse(ReferenceEquals(x, y), "the caller owns what the loop returns");
    }

    [TestMethod]
    public void Map_RunsTheBodyPerRowWithTheExtraArguments_AndStacks()
    {
        using var scope = NewDisposeScope();
        var body = new Subgraph([new TensorArg("row"), new TensorArg("w")], [new TensorArg("s")],
            [new GraphNode(Full("aten.mul.Tensor"), [T("self", "row"), T("other", "w")], [new TensorArg("p")]),
             new GraphNode(Full("aten.sum.default"), [T("self", "p")], [new TensorArg("s")])]);
        var node = new GraphNode("torch.ops.higher_order.map_impl", [Graph("body_graph_0", body), P(new TensorsArg(["xs"])), P(new TensorsArg(["w"]))], [new TensorArg("y")]);

        var y = RunOne(node, ["xs", "w"], tensor(new[] { 1f, 2f, 3f, 4f }, [2, 2]), tensor(new[] { 10f, 1f }))[0];

        CollectionAssert.AreEqual(new long[] { 2 }, y.shape);
        CollectionAssert.AreEqual(new[] { 12f, 34f }, y.data<float>().ToArray());
    }

    [TestMethod]
    public void SetGradEnabled_RunsItsRegion()
    {
        using var scope = NewDisposeScope();
        var region = Sub(["a"], ["s"], Unary("aten.sigmoid.default", "a", "s"));
        var node = new GraphNode("torch.ops.higher_order.wrap_with_set_grad_enabled", [P(new BoolArg(false)), Graph("submod_1", region), P(new TensorArg("x"))], [new TensorArg("y")]);
        var x = Random(3, 4);

        AssertClose(x.sigmoid(), RunOne(node, ["x"], x)[0]);
    }

    [TestMethod]
    public void Autocast_RunsItsRegionInTheGivenDtype_AndRestoresTheState()
    {
        using var scope = NewDisposeScope();
        var region = new Subgraph([new TensorArg("a"), new TensorArg("w")], [new TensorArg("l")],
            [new GraphNode(Full("aten.linear.default"), [T("input", "a"), T("weight", "w")], [new TensorArg("l")])]);
        GraphNode Autocast(bool enabled) => new("torch.ops.higher_order.wrap_with_autocast",
            [P(new StringArg("cpu")), P(new ScalarTypeArg(ExportScalarTypes.ToCode(Engine.Safetensors.TensorDType.BF16))), P(new BoolArg(enabled)), P(new BoolArg(false)),
             Graph("submod_1", region), P(new TensorArg("x")), P(new TensorArg("w"))], [new TensorArg("y")]);
        var x = Random(2, 8);
        var w = Random(4, 8);

        var y = RunOne(Autocast(enabled: true), ["x", "w"], x, w)[0];
        var outside = RunOne(new GraphNode(Full("aten.linear.default"), [T("input", "x"), T("weight", "w")], [new TensorArg("y")]), ["x", "w"], x, w)[0];
        var disabled = RunOne(Autocast(enabled: false), ["x", "w"], x, w)[0];

        Assert.AreEqual(ScalarType.BFloat16, y.dtype, "linear runs in bfloat16 inside the region");
        AssertClose(nn.functional.linear(x.to(ScalarType.BFloat16), w.to(ScalarType.BFloat16)), y, 0);
        Assert.AreEqual(ScalarType.Float32, outside.dtype, "the region's state does not leak");
        Assert.AreEqual(ScalarType.Float32, disabled.dtype, "enabled=False turns autocast off inside");
    }
}
