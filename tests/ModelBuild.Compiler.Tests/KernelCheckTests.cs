using ModelBuild.Compiler.Backends;
using ModelBuild.Compiler.Passes;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using static ModelBuild.Compiler.Tests.HandBuiltGraph;

namespace ModelBuild.Compiler.Tests;

/// <summary>
/// A kernel that implements only some argument values says so per node, so that the partitioner and the lowering check
/// refuse the node at compile time with the reason, instead of the engine failing when it runs.
/// </summary>
[TestClass]
public sealed class KernelCheckTests
{
    private const string Aten = "torch.ops.aten.";

    [TestMethod]
    public void TorchBackend_RefusesOnlyTheNodesWhoseArgumentsItsKernelLacks()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Node(Aten + "gelu.default", "tanh", ("self", T("x")), ("approximate", new StringArg("tanh")))
            .Node(Aten + "gelu.default", "odd", ("self", T("tanh")), ("approximate", new StringArg("erf")))
            .Node(Aten + "pad.default", "padded", ("self", T("odd")), ("pad", new IntsArg([1, 1])), ("mode", new StringArg("reflect")))
            .Node(Aten + "to.dtype", "complex", ("self", T("padded")), ("dtype", new ScalarTypeArg(9)))
            .Build("complex");
        var backend = new TorchBackendCompiler();

        var reasons = graph.Nodes.Select(n => backend.Unsupported(n, graph)).ToList();

        Assert.IsNull(reasons[0]);
        Assert.AreEqual("argument 'approximate' = 'erf' is not supported (only 'none', 'tanh')", reasons[1]);
        Assert.IsNull(reasons[2]);
        StringAssert.Contains(reasons[3], "dtype code 9");
    }

    [TestMethod]
    public void LoweringCheck_ListsTheKernelsReason_NextToTheOperator()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Node(Aten + "div.Tensor_mode", "q", ("self", T("x")), ("other", new FloatArg(2)), ("rounding_mode", new StringArg("ceil")))
            .Node(Aten + "made_up.default", "m", ("self", T("q")))
            .Build("m");
        var backend = new TorchBackendCompiler();

        var e = Assert.ThrowsExactly<ModelBuildException>(() => LoweringCheck.Run(graph, n => backend.Unsupported(n, graph), "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.UnsupportedOperators, e.Code);
        var lines = e.Detail.Split('\n');
        StringAssert.Contains(lines[0], "2 operators");
        StringAssert.StartsWith(lines[1], "  torch.ops.aten.div.Tensor_mode: 1 node (q)");
        StringAssert.EndsWith(lines[1], ": argument 'rounding_mode' = 'ceil' is not supported (only 'trunc', 'floor')");
        StringAssert.StartsWith(lines[2], "  torch.ops.aten.made_up.default: 1 node (m)");
        Assert.DoesNotContain("argument", lines[2], "an operator without a kernel needs no reason");
    }
}
