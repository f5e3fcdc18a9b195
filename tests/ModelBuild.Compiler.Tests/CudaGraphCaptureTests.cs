using ModelBuild.Compiler.Backends;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using static ModelBuild.Compiler.Tests.HandBuiltGraph;

namespace ModelBuild.Compiler.Tests;

/// <summary>Which TorchSharp blocks a CUDA engine may replay as a CUDA graph: the compiler decides, the plan records it.</summary>
[TestClass]
public sealed class CudaGraphCaptureTests
{
    private static GraphNode Node(string target, params (string Name, Argument Value)[] inputs) =>
        new(target, [.. inputs.Select(i => new NamedArgument(i.Name, i.Value))], [new TensorArg("y")]);

    [TestMethod]
    public void APlanOfPureDeviceWork_MayBeCaptured()
    {
        Assert.IsNull(CudaGraphCapture.WhyNot([
            Node("torch.ops.aten.linear.default", ("input", T("x")), ("weight", T("w"))),
            Node("torch.ops.aten.relu.default", ("self", T("y"))),
        ]));
    }

    [TestMethod]
    [DataRow("torch.ops.aten.nonzero.default", "reads a value back to the host")]
    [DataRow("torch.ops.aten._local_scalar_dense.default", "reads a value back to the host")]
    [DataRow("torch.ops.aten.randn.default", "draws random numbers")]
    [DataRow("torch.ops.aten.bernoulli.p", "draws random numbers")]
    [DataRow("torch.ops.higher_order.cond", "branches on data")]
    public void AHostSync_RandomNumbers_OrDataDependentControlFlow_IsNamedWithItsReason(string target, string why)
    {
        var reason = CudaGraphCapture.WhyNot([Node("torch.ops.aten.relu.default", ("self", T("x"))), Node(target, ("self", T("x")))]);

        Assert.IsNotNull(reason);
        StringAssert.StartsWith(reason, target);
        StringAssert.EndsWith(reason, why);
    }

    [TestMethod]
    public void DropoutAsEvalModeExportsIt_DrawsNothing_AndMayBeCaptured()
    {
        Assert.IsNull(CudaGraphCapture.WhyNot([Node("torch.ops.aten.dropout.default", ("input", T("x")), ("p", new FloatArg(0.1)), ("train", new BoolArg(false)))]));
        Assert.IsNull(CudaGraphCapture.WhyNot([Node("torch.ops.aten.dropout.default", ("input", T("x")), ("p", new FloatArg(0)), ("train", new BoolArg(true)))]));
        Assert.IsNotNull(CudaGraphCapture.WhyNot([Node("torch.ops.aten.dropout.default", ("input", T("x")), ("p", new FloatArg(0.1)), ("train", new BoolArg(true)))]));
    }

    [TestMethod]
    public void TheTorchBlock_CarriesTheReason_IntoThePlan()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "4")
            .Node("torch.ops.aten.rand_like.default", "noise", ("self", T("x")))
            .Node("torch.ops.aten.add.Tensor", "y", ("self", T("x")), ("other", T("noise")))
            .Build("y");

        var block = new TorchBackendCompiler().Compile(new BlockGraph(graph.Nodes, ["x"], ["y"]), graph, "cuda").Block;

        StringAssert.Contains(block.NotCapturable, "torch.ops.aten.rand_like.default (noise) draws random numbers");
    }
}
