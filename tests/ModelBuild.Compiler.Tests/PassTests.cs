using ModelBuild.Compiler.Passes;
using ModelBuild.Compiler.Validation;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using static ModelBuild.Compiler.Tests.HandBuiltGraph;
using static TorchSharp.torch;

namespace ModelBuild.Compiler.Tests;

[TestClass]
public sealed class PassTests
{
    private const string Relu = "torch.ops.aten.relu.default";
    private const string Permute = "torch.ops.aten.permute.default";
    private const string Addmm = "torch.ops.aten.addmm.default";

    [TestMethod]
    public void DeadCodeElimination_RemovesNodesAndWeightsNoOutputNeeds()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Weight("unused_w", ones(3, 3))
            .Node(Relu, "a", ("self", T("x")))
            .Node(Permute, "dead", ("self", T("unused_w")), ("dims", new IntsArg([1, 0])))
            .Node(Relu, "dead2", ("self", T("dead")))
            .Node(Relu, "y", ("self", T("a")))
            .Build("y");

        var result = DeadCodeElimination.Run(graph);

        CollectionAssert.AreEqual(new[] { "a", "y" }, result.Nodes.Select(n => n.DisplayName()).ToArray());
        Assert.IsEmpty(result.Weights);
    }

    [TestMethod]
    public void MemoryPlanner_FreesEachIntermediateAfterItsLastUse_AndNeverInputsWeightsOrOutputs()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Weight("w", ones(3, 3))
            .Node(Relu, "a", ("self", T("x")))
            .Node(Addmm, "b", ("self", T("a")), ("mat1", T("a")), ("mat2", T("w")))
            .Node("torch.ops.aten.max_pool2d_with_indices.default", [T("c"), T("c_indices")], ("self", T("b")))
            .Node(Relu, "y", ("self", T("a")))
            .Node(Relu, "z", ("self", T("c")))
            .Build("y", "z", "c");

        var free = MemoryPlanner.FreeAfter(graph.Nodes, ["x"], ["w"], ["y", "z", "c"]);

        Assert.HasCount(5, free);
        CollectionAssert.AreEqual(Array.Empty<string>(), free[0].ToArray());
        CollectionAssert.AreEqual(Array.Empty<string>(), free[1].ToArray());
        CollectionAssert.AreEqual(new[] { "b", "c_indices" }, free[2].ToArray(), "b's last use, and an output nothing reads");
        CollectionAssert.AreEqual(new[] { "a" }, free[3].ToArray());
        CollectionAssert.AreEqual(Array.Empty<string>(), free[4].ToArray(), "c is an output");
    }

    [TestMethod]
    public void ConstantFolding_ReplacesAPermuteOfAWeightByTheTransposedWeight()
    {
        using var scope = NewDisposeScope();
        var w = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "s0", "3")
            .Weight("w", w)
            .Weight("b", zeros(2))
            .Node(Permute, "wt", ("self", T("w")), ("dims", new IntsArg([1, 0])))
            .Node(Addmm, "y", ("self", T("b")), ("mat1", T("x")), ("mat2", T("wt")))
            .Build("y");

        var result = ConstantFolding.Run(graph);

        Assert.AreEqual(Addmm, result.Nodes.Single().Target);
        var folded = result.Weights.Single(x => x.ValueName == "wt");
        CollectionAssert.AreEqual(new[] { Dim.Of(3), Dim.Of(2) }, folded.Meta.Sizes.ToArray());
        CollectionAssert.AreEqual(new float[] { 0, 3, 1, 4, 2, 5 }, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(folded.Read().Span).ToArray());
        Assert.IsFalse(result.Weights.Any(x => x.ValueName == "w"), "the original weight is no longer read");
    }

    [TestMethod]
    public void ConstantFolding_KeepsNodesThatReadInputs()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Node(Relu, "y", ("self", T("x")))
            .Build("y");

        Assert.AreSame(graph, ConstantFolding.Run(graph));
    }

    [TestMethod]
    public void BatchNormFolding_TrainingIr_Conv2dThenBatchNorm_BecomesOneConvWithTheSameResult()
    {
        using var scope = NewDisposeScope();
        var graph = ConvBatchNorm("torch.ops.aten.conv2d.default", "torch.ops.aten.batch_norm.default", withConvBias: false);
        var x = randn(2, 3, 8, 8, generator: manual_seed(1));

        var folded = BatchNormFolding.Run(graph);

        Assert.AreEqual("torch.ops.aten.conv2d.default", folded.Nodes.Single().Target);
        Assert.AreEqual("y", folded.Nodes.Single().DisplayName());
        var expected = NodeByNode.Run(graph, x)[0];
        var actual = NodeByNode.Run(folded, x)[0];
        Assert.IsLessThan(1e-5, (actual - expected).abs().max().item<float>());
    }

    [TestMethod]
    public void BatchNormFolding_CoreIr_ConvolutionThenNativeBatchNorm_BecomesOneConvWithTheSameResult()
    {
        using var scope = NewDisposeScope();
        var graph = ConvBatchNorm("torch.ops.aten.convolution.default", "torch.ops.aten._native_batch_norm_legit_no_training.default", withConvBias: true);
        var x = randn(2, 3, 8, 8, generator: manual_seed(2));

        var folded = BatchNormFolding.Run(graph);

        Assert.AreEqual("torch.ops.aten.convolution.default", folded.Nodes.Single().Target);
        Assert.HasCount(2, folded.Weights, "the folded weight and bias replace conv and BatchNorm parameters");
        var expected = NodeByNode.Run(graph, x)[0];
        var actual = NodeByNode.Run(folded, x)[0];
        Assert.IsLessThan(1e-5, (actual - expected).abs().max().item<float>());
    }

    [TestMethod]
    [DataRow(TensorDType.F16)]
    [DataRow(TensorDType.BF16)]
    public void Optimizer_ReducedPrecision_KeepsTheBatchNormAnFp32IslandInsteadOfFoldingIt(TensorDType precision)
    {
        var graph = ConvBatchNormSoftmax();

        var fp32 = Optimizer.Run(graph, "cpu", TensorDType.F32);
        var reduced = Optimizer.Run(graph, "cpu", precision);

        Assert.IsFalse(fp32.Nodes.Any(n => n.Target == "torch.ops.aten.batch_norm.default"), "fp32 folds the batch norm into the convolution");
        var norm = reduced.Nodes.Single(n => n.Target == "torch.ops.aten.batch_norm.default");
        Assert.AreEqual(TensorDType.F32, reduced.Values[((TensorArg)norm.Inputs[0].Value).Name].DType, "the batch norm reads its input in fp32");
    }

    [TestMethod]
    public void DeviceRetargeting_MovesFactoryDevicesToTheTarget()
    {
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "s0")
            .Node("torch.ops.aten.arange.start_step", "r", ("start", new IntArg(0)), ("end", new IntArg(4)), ("step", new IntArg(1)), ("device", new DeviceArg("cpu", null)))
            .Build("r");

        var result = DeviceRetargeting.Run(graph, "cuda");

        Assert.AreEqual(new DeviceArg("cuda", null), result.Nodes.Single().Inputs.Single(a => a.Name == "device").Value);
    }

    [TestMethod]
    public void PrecisionLowering_CastsFloatWeightsAndFactoryDtypes_AndLeavesIntegersAlone()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2")
            .Weight("w", tensor(new float[] { 1.5f, -2f }))
            .Weight("idx", tensor(new long[] { 0, 1 }))
            .Node("torch.ops.aten.full.default", "f", ("size", new IntsArg([2])), ("fill_value", new FloatArg(1)), ("dtype", new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.F32))))
            .Node("torch.ops.aten.arange.default", "i", ("end", new IntArg(2)), ("dtype", new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.I64))))
            .Build("f", "i");

        var result = PrecisionLowering.Run(graph, TensorDType.F16);

        Assert.AreEqual(TensorDType.F16, result.Weights.Single(w => w.ValueName == "w").Meta.DType);
        CollectionAssert.AreEqual(new[] { (Half)1.5f, (Half)(-2f) }, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(result.Weights.Single(w => w.ValueName == "w").Read().Span).ToArray());
        Assert.AreEqual(TensorDType.I64, result.Weights.Single(w => w.ValueName == "idx").Meta.DType);
        GraphNode Writing(string name) => result.Nodes.Single(n => n.Outputs.Contains(new TensorArg(name)));
        Assert.AreEqual(new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.F16)), Writing("f").Inputs.Single(a => a.Name == "dtype").Value);
        Assert.AreEqual(new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.I64)), Writing("i").Inputs.Single(a => a.Name == "dtype").Value);
    }

    [TestMethod]
    public void PrecisionLowering_CastsFloatInputsOnEntry_AndFloatOutputsBackToF32()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2")
            .Weight("idx", tensor(new long[] { 0, 1 }))
            .Node("torch.ops.aten.relu.default", "r", ("self", T("x")))
            .Value("r", TensorDType.F32, "2")
            .Build("r", "idx");

        var result = PrecisionLowering.Run(graph, TensorDType.BF16);

        var entry = result.Nodes[0];
        Assert.AreEqual("torch.ops.aten._to_copy.default", entry.Target);
        Assert.AreEqual(T("x"), entry.Inputs.Single(a => a.Name == "self").Value);
        var cast = ((TensorArg)entry.Outputs.Single()).Name;
        Assert.AreEqual(T(cast), result.Nodes.Single(n => n.Target == "torch.ops.aten.relu.default").Inputs.Single().Value, "the graph reads the cast, not the input");
        CollectionAssert.AreEqual(new[] { "r_f32", "idx" }, result.Outputs.Select(o => o.Name).ToArray(), "float outputs are cast back; integer ones stay");
        var exit = result.Nodes[^1];
        Assert.AreEqual(new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.F32)), exit.Inputs.Single(a => a.Name == "dtype").Value);
        Assert.AreEqual(TensorDType.F32, result.Values["r_f32"].DType);
    }

    [TestMethod]
    public void PrecisionLowering_RunsNormalizationAndSoftmaxInFp32_WithOneCastEachWay_AndTheRestInTheTargetDType()
    {
        using var scope = NewDisposeScope();
        var graph = ConvBatchNormSoftmax();
        var x = randn(2, 3, 8, 8, generator: manual_seed(3));

        var result = PrecisionLowering.Run(graph, TensorDType.F16);

        CollectionAssert.AreEqual(new[] { "_to_copy", "conv2d", "_to_copy", "batch_norm", "softmax", "_to_copy", "relu", "_to_copy" },
            result.Nodes.Select(n => n.Target.Split('.')[3]).ToArray(), "softmax reads batch_norm's fp32 output as it is");
        GraphNode Writing(string name) => result.Nodes.Single(n => n.Writes().Contains(name));
        Assert.AreEqual(T("c"), Writing("c_f32").Inputs[0].Value);
        Assert.AreEqual(T("c_f32"), Writing("y").Inputs.Single(a => a.Name == "input").Value);
        Assert.AreEqual(T("s_f16"), Writing("r").Inputs.Single().Value);
        var dtypes = new[] { "x", "x_f16", "c", "c_f32", "y", "s", "s_f16", "r", "r_f32" }.Select(v => result.Values[v].DType).ToArray();
        CollectionAssert.AreEqual(new[] { TensorDType.F32, TensorDType.F16, TensorDType.F16, TensorDType.F32, TensorDType.F32, TensorDType.F32, TensorDType.F16, TensorDType.F16, TensorDType.F32 }, dtypes);
        CollectionAssert.AreEqual(new[] { "r_f32" }, result.Outputs.Select(o => o.Name).ToArray());
        Assert.AreEqual(TensorDType.F16, result.Weights.Single(w => w.ValueName == "w").Meta.DType);
        CollectionAssert.AreEquivalent(new[] { "gamma", "beta", "mean", "var" }, result.Weights.Where(w => w.Meta.DType == TensorDType.F32).Select(w => w.ValueName).ToArray(),
            "weights only the batch norm reads stay F32, uncast");
        Assert.IsTrue(result.Weights.All(w => result.Values[w.ValueName].DType == w.Meta.DType));
        var actual = NodeByNode.Run(result, x)[0];
        Assert.AreEqual(ScalarType.Float32, actual.dtype);
        Assert.IsTrue(OutputComparison.Of(actual, NodeByNode.Run(graph, x)[0]).Meets(ValidationCriteria.For("fp16", null)));
    }

    [TestMethod]
    public void PrecisionLowering_NeverCastsACast()
    {
        using var scope = NewDisposeScope();
        var f16 = new ScalarTypeArg(ExportScalarTypes.ToCode(TensorDType.F16));
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Node("torch.ops.aten._softmax.default", "s", ("self", T("x")), ("dim", new IntArg(1)), ("half_to_float", new BoolArg(false)))
            .Node("torch.ops.aten._to_copy.default", "h", ("self", T("s")), ("dtype", f16))
            .Node("torch.ops.aten.log_softmax.int", "l", ("self", T("s")), ("dim", new IntArg(1)))
            .Node("torch.ops.aten.exp.default", "e", ("self", T("h")))
            .Node("torch.ops.aten.neg.default", "n", ("self", T("s")))
            .Node("torch.ops.aten.mul.Tensor", "m", ("self", T("s")), ("other", T("l")))
            .Value("s", TensorDType.F32, "2", "3").Value("h", TensorDType.F16, "2", "3").Value("l", TensorDType.F32, "2", "3")
            .Value("e", TensorDType.F16, "2", "3").Value("n", TensorDType.F32, "2", "3").Value("m", TensorDType.F32, "2", "3")
            .Build("e", "n", "m");

        var result = PrecisionLowering.Run(graph, TensorDType.BF16);

        var casts = result.Nodes.Where(n => n.Target == "torch.ops.aten._to_copy.default").ToList();
        var castOutputs = casts.SelectMany(n => n.Writes()).ToHashSet();
        Assert.IsFalse(casts.Any(c => castOutputs.Contains(((TensorArg)c.Inputs[0].Value).Name)), string.Join(", ", casts.Select(c => c.DisplayName())));
        Assert.AreEqual(T("s"), casts.Single(c => c.DisplayName() == "h").Inputs[0].Value, "the model's own cast reads the fp32 softmax directly");
        Assert.AreEqual(1, casts.Count(c => c.Inputs[0].Value == T("s") && c.DisplayName() != "h"), "one cast of s to bf16, shared by neg and mul");
        Assert.AreEqual(TensorDType.F16, result.Values["h"].DType, "an F16 value of the source graph stays F16");
        Assert.AreEqual(T("h"), result.Nodes.Single(n => n.DisplayName() == "e").Inputs[0].Value, "an island reads a non-F32 value as it is");
        Assert.AreEqual("e", result.Outputs[0].Name);
    }

    [TestMethod]
    public void PrecisionLowering_StoresAWeightThatIslandsAndOtherNodesRead_InBothDTypes()
    {
        using var scope = NewDisposeScope();
        var graph = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3")
            .Weight("w", tensor(new float[] { 1.5f, -2f, 0.1f }))
            .Node("torch.ops.aten.layer_norm.default", "n", ("input", T("x")), ("normalized_shape", new IntsArg([3])), ("weight", T("w")), ("bias", new NoneArg()))
            .Node("torch.ops.aten.mul.Tensor", "m", ("self", T("n")), ("other", T("w")))
            .Value("n", TensorDType.F32, "2", "3").Value("m", TensorDType.F32, "2", "3")
            .Build("m");

        var result = PrecisionLowering.Run(graph, TensorDType.F16);

        CollectionAssert.AreEqual(new[] { ("w", TensorDType.F32), ("w_f16", TensorDType.F16) }, result.Weights.Select(w => (w.ValueName, w.Meta.DType)).ToArray());
        Assert.AreEqual(T("w"), result.Nodes.Single(n => n.DisplayName() == "n").Inputs.Single(a => a.Name == "weight").Value);
        Assert.AreEqual(T("w_f16"), result.Nodes.Single(n => n.DisplayName() == "m").Inputs.Single(a => a.Name == "other").Value);
        Assert.AreEqual(TensorDType.F16, result.Values["w_f16"].DType);
        Assert.AreEqual("torch.ops.aten.layer_norm.default", result.Nodes[0].Target, "x reaches the island uncast");
    }

    [TestMethod]
    [DataRow("torch.ops.aten.native_layer_norm.default", true)]
    [DataRow("torch.ops.aten._native_batch_norm_legit_no_training.default", true)]
    [DataRow("torch.ops.aten.sum.dim_IntList", true)]
    [DataRow("torch.ops.aten.pow.Tensor_Scalar", true)]
    [DataRow("torch.ops.aten.linear.default", false)]
    [DataRow("torch.ops.aten.sigmoid.default", false)]
    [DataRow("torch.ops.aten.expand.default", false)]
    [DataRow("_operator.pow", false)]
    public void Fp32Operators_MatchesEveryOverloadOfAnAtenOperatorInTheTable(string target, bool fp32) =>
        Assert.AreEqual(fp32, Fp32Operators.RunsInFp32(target));

    [TestMethod]
    public void LoweringCheck_ListsEveryUnsupportedOperator_OneLineEach_WithItsNodeCountFirstNamesAndDistinctOrigins()
    {
        const string Site = "/opt/torch/.venv/lib/python3.12/site-packages/torch/nn/modules/activation.py, line 475, in forward: return F.silu(input, inplace=self.inplace)";
        var builder = new HandBuiltGraph().Input("x", TensorDType.F32, "2");
        var previous = "x";
        for (var i = 0; i < 5; i++)
        {
            var name = i == 0 ? "made" : $"made_{i}";
            builder.Node("torch.ops.aten.made_up_one.default", [new TensorArg(name)], ("self", T(previous)));
            previous = name;
        }
        var graph = builder
            .Node(Relu, "b", ("self", T(previous)))
            .Node("torch.ops.aten.made_up_two.default", "c", ("self", T("b")))
            .Build("c");
        graph = graph.With(nodes: [.. graph.Nodes.Select((n, i) => i < 5 ? n with { Origin = i == 4 ? "/home/me/model.py, line 12, in forward: y = op(x)" : Site } : n)]);

        var e = Assert.ThrowsExactly<ModelBuildException>(() => LoweringCheck.Run(graph, ModelBuild.Runtime.Torch.Execution.OpKernels.Unsupported, "m.pt2"));

        Assert.AreEqual(DiagnosticCodes.UnsupportedOperators, e.Code);
        var lines = e.Detail.Split('\n');
        Assert.HasCount(3, lines, e.Detail);
        StringAssert.Contains(lines[0], "2 operators");
        Assert.AreEqual("  torch.ops.aten.made_up_one.default: 5 nodes (made, made_1, made_2, ...) at torch/nn/modules/activation.py:475, /home/me/model.py:12", lines[1]);
        Assert.AreEqual("  torch.ops.aten.made_up_two.default: 1 node (c) at model.py:7", lines[2]);
        Assert.DoesNotContain("relu", e.Message);
    }

    /// <summary>x -> conv2d -> batch_norm -> softmax over the channels -> relu, every value F32.</summary>
    private static ModelGraph ConvBatchNormSoftmax()
    {
        var g = manual_seed(5);
        return new HandBuiltGraph()
            .Input("x", TensorDType.F32, "2", "3", "8", "8")
            .Weight("w", randn(4, 3, 3, 3, generator: g))
            .Weight("gamma", rand(4, generator: g) + 0.5)
            .Weight("beta", randn(4, generator: g))
            .Weight("mean", randn(4, generator: g))
            .Weight("var", rand(4, generator: g) + 0.1)
            .Node("torch.ops.aten.conv2d.default", "c", ("input", T("x")), ("weight", T("w")), ("padding", new IntsArg([1, 1])))
            .Node("torch.ops.aten.batch_norm.default", "y", ("input", T("c")), ("weight", T("gamma")), ("bias", T("beta")), ("running_mean", T("mean")),
                ("running_var", T("var")), ("training", new BoolArg(false)), ("momentum", new FloatArg(0.1)), ("eps", new FloatArg(1e-5)), ("cudnn_enabled", new BoolArg(true)))
            .Node("torch.ops.aten.softmax.int", "s", ("self", T("y")), ("dim", new IntArg(1)))
            .Node("torch.ops.aten.relu.default", "r", ("self", T("s")))
            .Value("c", TensorDType.F32, "2", "4", "8", "8").Value("y", TensorDType.F32, "2", "4", "8", "8")
            .Value("s", TensorDType.F32, "2", "4", "8", "8").Value("r", TensorDType.F32, "2", "4", "8", "8")
            .Build("r");
    }

    private static ModelGraph ConvBatchNorm(string conv, string batchNorm, bool withConvBias)
    {
        var g = manual_seed(7);
        var builder = new HandBuiltGraph()
            .Input("x", TensorDType.F32, "s0", "3", "8", "8")
            .Weight("w", randn(4, 3, 3, 3, generator: g))
            .Weight("gamma", rand(4, generator: g) + 0.5)
            .Weight("beta", randn(4, generator: g))
            .Weight("mean", randn(4, generator: g))
            .Weight("var", rand(4, generator: g) + 0.1);
        if (withConvBias)
        {
            builder.Weight("b", randn(4, generator: g));
        }
        (string, Argument)[] convArgs = conv.Contains("convolution", StringComparison.Ordinal)
            ? [("input", T("x")), ("weight", T("w")), ("bias", withConvBias ? T("b") : new NoneArg()), ("stride", new IntsArg([1, 1])), ("padding", new IntsArg([1, 1])),
               ("dilation", new IntsArg([1, 1])), ("transposed", new BoolArg(false)), ("output_padding", new IntsArg([0, 0])), ("groups", new IntArg(1))]
            : [("input", T("x")), ("weight", T("w")), ("padding", new IntsArg([1, 1]))];
        builder.Node(conv, "c", convArgs);
        (string, Argument)[] bnArgs = [("input", T("c")), ("weight", T("gamma")), ("bias", T("beta")), ("running_mean", T("mean")), ("running_var", T("var"))];
        return batchNorm.Contains("legit", StringComparison.Ordinal)
            ? builder.Node(batchNorm, [T("y"), T("unused_1"), T("unused_2")], [.. bnArgs, ("momentum", new FloatArg(0.1)), ("eps", new FloatArg(1e-5))]).Build("y")
            : builder.Node(batchNorm, "y", [.. bnArgs, ("training", new BoolArg(false)), ("momentum", new FloatArg(0.1)), ("eps", new FloatArg(1e-5)), ("cudnn_enabled", new BoolArg(true))]).Build("y");
    }
}
