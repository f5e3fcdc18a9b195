using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Passes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Compiler.Tests.HandBuiltGraph;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

/// <summary>The passes look into the subgraphs of higher-order operators, and leave what a subgraph means unchanged.</summary>
[TestClass]
public sealed class SubgraphPassTests
{
    private const string Aten = "torch.ops.aten.";
    private const string Cond = "torch.ops.higher_order.cond";
    private const string Autocast = "torch.ops.higher_order.wrap_with_autocast";

    private static GraphNode Op(string target, string output, params (string Name, Argument Value)[] inputs) =>
        new(Aten + target, [.. inputs.Select(i => new NamedArgument(i.Name, i.Value))], [new TensorArg(output)]);

    /// <summary>x -> cond(x.sum() > 0, branch, branch, [x, w]) -> y, the branch being <paramref name="nodes"/> over (a, b) returning r.</summary>
    private static ModelGraph WithCond(params GraphNode[] nodes)
    {
        var branch = new Subgraph([T("a"), T("b")], [T("r")], nodes);
        return new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Weight("w", ones(4))
            .Node(Aten + "sum.default", "s", ("self", T("x")))
            .Node(Aten + "gt.Scalar", "p", ("self", T("s")), ("other", new IntArg(0)))
            .Node(Cond, [T("y")], ("", T("p")), ("", new GraphArg("true_graph_0", branch)), ("", new GraphArg("false_graph_0", branch)), ("", new TensorsArg(["x", "w"])))
            .Build("y");
    }

    private static Subgraph Branch(ModelGraph graph, int which = 0) => graph.Nodes.Single(n => n.Target == Cond).Subgraphs().ElementAt(which);

    [TestMethod]
    public void DeadCodeElimination_RemovesDeadNodesInsideSubgraphs_AndKeepsAssertions()
    {
        using var scope = NewDisposeScope();
        var graph = WithCond(
            Op("rand.default", "dead", ("size", new IntsArg([2]))),
            new GraphNode(Aten + "_assert_tensor_metadata.default", [new NamedArgument("a", T("a"))], []),
            Op("mul.Tensor", "r", ("self", T("a")), ("other", T("b"))));

        var result = DeadCodeElimination.Run(graph);

        CollectionAssert.AreEqual(new[] { Aten + "_assert_tensor_metadata.default", Aten + "mul.Tensor" }, Branch(result).Nodes.Select(n => n.Target).ToList());
        Assert.AreEqual("w", result.Weights.Single().ValueName, "a weight only a subgraph operand reads stays");
    }

    [TestMethod]
    public void Functionalization_RewritesInPlaceOpsInsideSubgraphs_AndRefusesWritingASubgraphInput()
    {
        using var scope = NewDisposeScope();
        var local = WithCond(Op("mul.Tensor", "m", ("self", T("a")), ("other", T("b"))), Op("relu_.default", "r", ("self", T("m"))));
        var writesInput = WithCond(Op("relu_.default", "r", ("self", T("a"))));

        var branch = Branch(Functionalization.Run(local, OpKernels.IsSupported, "m.pt2"));
        var e = Assert.ThrowsExactly<ModelBuildException>(() => Functionalization.Run(writesInput, OpKernels.IsSupported, "m.pt2"));

        Assert.AreEqual(Aten + "relu.default", branch.Nodes[1].Target);
        CollectionAssert.AreEqual(new Argument[] { T("r") }, branch.Outputs.ToList());
        Assert.AreEqual(DiagnosticCodes.InPlaceMutatesInput, e.Code);
        StringAssert.Contains(e.Message, "an input of a higher-order operator's subgraph");
    }

    [TestMethod]
    public void ConstantFolding_LeavesHigherOrderOperatorsWhoseOperandsAreWeights()
    {
        using var scope = NewDisposeScope();
        var branch = new Subgraph([T("a")], [T("r")], [Op("neg.default", "r", ("self", T("a")))]);
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Weight("w", ones(4))
            .Node("torch.ops.higher_order.wrap_with_set_grad_enabled", [T("nw")], ("", new BoolArg(false)), ("", new GraphArg("submod_1", branch)), ("", T("w")))
            .Node(Aten + "add.Tensor", "y", ("self", T("x")), ("other", T("nw")))
            .Build("y");

        var result = ConstantFolding.Run(graph);

        Assert.AreEqual(2, result.Nodes.Count);
        Assert.AreEqual("w", result.Weights.Single().ValueName);
    }

    [TestMethod]
    public void DeviceRetargeting_ReachesSubgraphs_AndAutocastRegionsCastOnTheTargetDevice()
    {
        var region = new Subgraph([T("a")], [T("r")], [Op("zeros.default", "r", ("size", new IntsArg([2])), ("device", new DeviceArg("cpu", null)))]);
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2")
            .Node(Autocast, [T("y")], ("", new StringArg("cpu")), ("", new NoneArg()), ("", new BoolArg(true)), ("", new BoolArg(false)), ("", new GraphArg("submod_1", region)), ("", T("x")))
            .Build("y");

        var node = DeviceRetargeting.Run(graph, "cuda").Nodes.Single();

        Assert.AreEqual(new StringArg("cuda"), node.Inputs[0].Value);
        Assert.AreEqual(new DeviceArg("cuda", null), node.Subgraphs().Single().Nodes.Single().Inputs[1].Value);
    }

    [TestMethod]
    public void PrecisionLowering_LowersDtypeArgumentsInsideSubgraphs()
    {
        using var scope = NewDisposeScope();
        var f32 = new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.F32));
        var graph = WithCond(Op("_to_copy.default", "r", ("self", T("a")), ("dtype", f32)));

        var lowered = PrecisionLowering.Run(graph, TensorDType.F16);

        Assert.AreEqual(new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.F16)), Branch(lowered).Nodes.Single().Inputs[1].Value);
    }

    [TestMethod]
    public void LoweringCheck_AndTheTorchBackend_SeeOperatorsWithoutKernelsInsideSubgraphs()
    {
        var graph = WithCond(Op("no_such_op.default", "r", ("self", T("a"))));
        var cond = graph.Nodes.Single(n => n.Target == Cond);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => LoweringCheck.Run(graph, n => new TorchBackendCompiler().Unsupported(n, graph), "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.UnsupportedOperators, e.Code);
        StringAssert.Contains(e.Message, Aten + "no_such_op.default: 2 nodes", "one in each branch");
        StringAssert.Contains(new TorchBackendCompiler().Unsupported(cond, graph), "no_such_op");
    }

    [TestMethod]
    public void MemoryPlanAndPartition_CountTheOperandsAsTheOperatorsReads()
    {
        var graph = WithCond(Op("mul.Tensor", "r", ("self", T("a")), ("other", T("b"))));

        var blocks = Partitioner.Run(graph, [new TorchBackendCompiler()], 1, []);
        var free = MemoryPlanner.FreeAfter(graph.Nodes, ["x"], ["w"], ["y"]);

        CollectionAssert.AreEqual(new[] { "x" }, blocks.Single().Block.Inputs.ToList(), "the weight is not a block input; the subgraph's own names are not read");
        CollectionAssert.AreEqual(new[] { "p" }, free[2].ToList(), "the predicate dies at the cond; x, w and y stay");
    }
}
