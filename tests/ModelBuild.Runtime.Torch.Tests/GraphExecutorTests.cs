using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using TorchSharp;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class GraphExecutorTests
{
    /// <summary>The nodes of one block, what it reads and returns, and its memory plan.</summary>
    private sealed record Plan(string[] Inputs, string[] Outputs, IReadOnlyList<GraphNode> Nodes, IReadOnlyList<IReadOnlyList<string>> FreeAfter);

    private static GraphExecutor Executor(Plan plan, IReadOnlyDictionary<string, Tensor> weights) =>
        new(plan.Nodes, plan.Inputs, plan.Outputs, weights, plan.FreeAfter, CPU);

    /// <summary>x -> linear(w1, b1) -> relu -> linear(w2) -> y, plus sum(x, 1) as a second output.</summary>
    private static Plan MlpPlan(bool free) => new(
        Inputs: ["x"],
        Outputs: ["y", "total"],
        Nodes:
        [
            new GraphNode("torch.ops.aten.linear.default", [T("input", "x"), T("weight", "w1"), T("bias", "b1")], [new TensorArg("h")]),
            new GraphNode("torch.ops.aten.relu.default", [T("self", "h")], [new TensorArg("r")]),
            new GraphNode("torch.ops.aten.linear.default", [T("input", "r"), T("weight", "w2")], [new TensorArg("y")]),
            new GraphNode("torch.ops.aten.sum.dim_IntList", [T("self", "x"), Is("dim", 1)], [new TensorArg("total")]),
        ],
        FreeAfter: free ? [[], ["h"], ["r"], []] : []);

    private static Dictionary<string, Tensor> MlpWeights()
    {
        using var generator = new Generator(7);
        return new()
        {
            ["w1"] = randn([16, 8], generator: generator),
            ["b1"] = randn([16], generator: generator),
            ["w2"] = randn([4, 16], generator: generator),
        };
    }

    private static Tensor Expected(Dictionary<string, Tensor> w, Tensor x) =>
        nn.functional.linear(nn.functional.linear(x, w["w1"], w["b1"]).relu(), w["w2"]);

    [TestMethod]
    public void Run_ComputesThePlansOutputsInOrder()
    {
        using var scope = NewDisposeScope();
        var weights = MlpWeights();
        var executor = Executor(MlpPlan(free: true), weights);
        var x = Random(3, 8);

        var outputs = executor.Run([x]);

        Assert.HasCount(2, outputs);
        AssertClose(Expected(weights, x), outputs[0], 1e-4);
        AssertClose(x.sum(1), outputs[1], 1e-5);
    }

    [TestMethod]
    public void Run_FromManyThreadsAtOnce_GivesEveryCallerItsOwnResult()
    {
        var weights = MlpWeights();
        var executor = Executor(MlpPlan(free: true), weights);
        var inputs = Enumerable.Range(0, 8).Select(i => full(new long[] { i + 1, 8 }, (float)(i - 4) / 3)).ToArray();
        var expected = inputs.Select(x => { using var _ = no_grad(); return Expected(weights, x); }).ToArray();

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var scope = NewDisposeScope();
            var which = i % inputs.Length;
            var outputs = executor.Run([inputs[which]]);
            var error = (outputs[0] - expected[which]).abs().max().item<float>();
            if (error > 1e-4 || outputs[0].shape[0] != which + 1)
            {
                failures.Add($"call {i} (input {which}): error {error}, shape [{string.Join(", ", outputs[0].shape)}]");
            }
        });

        Assert.IsEmpty(failures, string.Join("; ", failures));
        foreach (var t in inputs.Concat(expected))
        {
            t.Dispose();
        }
    }

    [TestMethod]
    public void Run_LeavesNoIntermediateAlive()
    {
        var weights = MlpWeights();
        var executor = Executor(MlpPlan(free: true), weights);
        using var x = Random(3, 8);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var outputs = executor.Run([x]);

        Assert.AreEqual(before + outputs.Length, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "only the outputs stay alive");
        foreach (var o in outputs)
        {
            o.Dispose();
        }
    }

    [TestMethod]
    public void FreeAfter_DisposesAValueRightAfterItsLastUse()
    {
        // The plan frees h after the relu (node 1), its last use; a node added later that reads h must find it gone.
        var plan = MlpPlan(free: true) with
        {
            Nodes = [.. MlpPlan(free: true).Nodes.Take(3), new GraphNode("torch.ops.aten.neg.default", [T("self", "h")], [new TensorArg("total")])],
        };
        var executor = Executor(plan, MlpWeights());
        using var x = Random(3, 8);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var error = Assert.ThrowsExactly<ModelBuildException>(() => executor.Run([x]));

        Assert.AreEqual(DiagnosticCodes.PlanInconsistent, error.Code);
        StringAssert.Contains(error.Message, "'h' is read after the plan freed it (FreeAfter of node 1");
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount, "a failed run frees what it made");
    }

    [TestMethod]
    public void Run_WithoutFreeAfter_StillGivesTheSameResults()
    {
        using var scope = NewDisposeScope();
        var weights = MlpWeights();
        var freeing = Executor(MlpPlan(free: true), MlpWeights());
        var keeping = Executor(MlpPlan(free: false), weights);
        var x = Random(5, 8);

        AssertClose(freeing.Run([x])[0], keeping.Run([x])[0], 0);
    }

    [TestMethod]
    public void Run_ReturnsAnInputOrWeightOutputAsANewHandle()
    {
        var plan = new Plan(["x"], ["x", "w"], [], []);
        using var w = ones(2);
        var executor = Executor(plan, new Dictionary<string, Tensor> { ["w"] = w });
        using var x = zeros(3);

        var outputs = executor.Run([x]);
        foreach (var o in outputs)
        {
            o.Dispose();
        }

        Assert.IsFalse(x.IsInvalid, "the caller's input survives disposing the outputs");
        var again = executor.Run([x]);
        Assert.AreEqual(2L, again[1].numel(), "the weight survives too");
        foreach (var o in again)
        {
            o.Dispose();
        }
    }

    [TestMethod]
    public void Run_WithTheWrongNumberOfInputs_NamesTheInputs()
    {
        var executor = Executor(MlpPlan(free: true), MlpWeights());

        var error = Assert.ThrowsExactly<ModelBuildException>(() => executor.Run([]));

        Assert.AreEqual(DiagnosticCodes.PlanInconsistent, error.Code);
        StringAssert.Contains(error.Message, "takes 1 inputs (x) but was given 0");
    }

    [TestMethod]
    public void Constructor_WithAMissingWeight_Fails()
    {
        var weights = MlpWeights();
        weights.Remove("w2", out var w2);
        w2!.Dispose();

        var error = Assert.ThrowsExactly<ModelBuildException>(() => Executor(MlpPlan(free: true), weights));

        Assert.AreEqual(DiagnosticCodes.PlanInconsistent, error.Code);
        StringAssert.Contains(error.Message, "reads 'w2', which no input, weight or earlier node provides");
        Assert.IsFalse(weights["w1"].IsInvalid, "the weights belong to the caller, not the executor");
    }

    [TestMethod]
    public void Invoke_OfAnUnknownTarget_FailsWithItsCode()
    {
        var node = new GraphNode("torch.ops.aten.made_up.default", [], [new TensorArg("y")]);

        var error = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(node, _ => throw new InvalidOperationException()));

        Assert.AreEqual(DiagnosticCodes.KernelUnsupportedTarget, error.Code);
        Assert.IsFalse(OpKernels.IsSupported("torch.ops.aten.made_up.default"));
        Assert.IsTrue(OpKernels.IsSupported("torch.ops.aten.linear.default"));
    }

    [TestMethod]
    public void Invoke_WithoutARequiredArgument_NamesIt()
    {
        var node = new GraphNode("torch.ops.aten.linear.default", [T("input", "x")], [new TensorArg("y")]) { Origin = "model.py:12" };
        using var x = zeros(2, 2);

        var error = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(node, _ => x));

        Assert.AreEqual(DiagnosticCodes.KernelArgumentInvalid, error.Code);
        StringAssert.Contains(error.Message, "node 'y' (torch.ops.aten.linear.default) from model.py:12: required argument 'weight' is missing");
    }

    [TestMethod]
    public void Invoke_WhenTorchFails_ReportsTheNodeAndInputShapes()
    {
        var node = new GraphNode("torch.ops.aten.mm.default", [T("self", "x"), T("mat2", "y")], [new TensorArg("z")]);
        using var x = zeros(2, 3);
        using var y = zeros(4, 5);

        var error = Assert.ThrowsExactly<ModelBuildException>(() => OpKernels.Invoke(node, n => n == "x" ? x : y));

        Assert.AreEqual(DiagnosticCodes.KernelFailed, error.Code);
        StringAssert.Contains(error.Message, "[2, 3] Float32, [4, 5] Float32");
    }

    [TestMethod]
    public void SupportedTargets_CoverEveryFixtureOp()
    {
        string[] fixtureOps =
        [
            "aten._native_batch_norm_legit_no_training.default", "aten._softmax.default", "aten.adaptive_avg_pool2d.default", "aten.add.Tensor",
            "aten.addmm.default", "aten.any.dim", "aten.arange.default", "aten.arange.start_step", "aten.batch_norm.default", "aten.bmm.default",
            "aten.cat.default", "aten.chunk.default", "aten.clamp.default", "aten.clone.default", "aten.contiguous.default", "aten.conv1d.default",
            "aten.conv2d.default", "aten.convolution.default", "aten.cumsum.default", "aten.embedding.default", "aten.eq.Scalar", "aten.exp.default",
            "aten.expand.default", "aten.flatten.using_ints", "aten.flip.default", "aten.full.default", "aten.full_like.default", "aten.gelu.default",
            "aten.gt.Scalar", "aten.layer_norm.default", "aten.le.Scalar", "aten.linear.default", "aten.log1p.default", "aten.logical_and.default",
            "aten.logical_not.default", "aten.matmul.default", "aten.max_pool2d.default", "aten.max_pool2d_with_indices.default", "aten.mean.dim",
            "aten.mm.default", "aten.mul.Scalar", "aten.mul.Tensor", "aten.native_layer_norm.default", "aten.permute.default", "aten.relu.default",
            "aten.reshape.default", "aten.scalar_tensor.default", "aten.scaled_dot_product_attention.default", "aten.sigmoid.default", "aten.silu.default",
            "aten.softmax.int", "aten.split.Tensor", "aten.split_with_sizes.default", "aten.sub.Tensor", "aten.sum.dim_IntList", "aten.sym_size.int",
            "aten.tanh.default", "aten.topk.default", "aten.transpose.int", "aten.unsqueeze.default", "aten.view.default", "aten.where.self",
        ];

        var missing = fixtureOps.Select(Full).Append("_operator.mul").Where(t => !OpKernels.IsSupported(t)).ToList();

        Assert.IsEmpty(missing, string.Join(", ", missing));
    }
}
