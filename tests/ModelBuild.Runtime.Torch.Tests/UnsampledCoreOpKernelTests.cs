using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>
/// Kernels of the core ATen ops that no float32 OpInfo program reaches (integer-only ops, backward ops and padding modes
/// that run_decompositions() removes), checked against values worked out by hand or against libtorch's autograd.
/// </summary>
[TestClass]
public sealed class UnsampledCoreOpKernelTests
{
    [TestMethod]
    public void BitwiseXorAndScalarOverloads_ComputeBitwise()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new long[] { 12, 10, 0, -1 });
        var y = tensor(new long[] { 10, 6, 5, 3 });

        var xor = Op("aten.bitwise_xor.Tensor", [x, y], T("self", "x"), T("other", "y"));
        var and = Op("aten.bitwise_and.Scalar", [x], T("self", "x"), I("other", 6));
        var or = Op("aten.bitwise_or.Scalar", [x], T("self", "x"), I("other", 6));
        var xorScalar = Op("aten.bitwise_xor.Scalar", [x], T("self", "x"), I("other", 6));

        CollectionAssert.AreEqual(new long[] { 6, 12, 5, -4 }, xor.data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 4, 2, 0, 6 }, and.data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 14, 14, 6, -1 }, or.data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 10, 12, 6, -7 }, xorScalar.data<long>().ToArray());
    }

    [TestMethod]
    public void ReflectionAndReplicationPads_MirrorOrRepeatTheEdges()
    {
        using var scope = NewDisposeScope();
        var row = F32([1, 2, 3], 1, 3);
        var square = F32([1, 2, 3, 4], 1, 2, 2);

        var reflected = Op("aten.reflection_pad1d.default", row, T("self", "x"), Is("padding", 2, 1));
        var replicated = Op("aten.replication_pad1d.default", row, T("self", "x"), Is("padding", 2, 1));
        var reflected2d = Op("aten.reflection_pad2d.default", square, T("self", "x"), Is("padding", 1, 1, 1, 0));
        var replicated2d = Op("aten.replication_pad2d.default", square, T("self", "x"), Is("padding", 1, 0, 0, 1));

        CollectionAssert.AreEqual(new float[] { 3, 2, 1, 2, 3, 2 }, reflected.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 2, 3, 3 }, replicated.data<float>().ToArray());
        CollectionAssert.AreEqual(new long[] { 1, 3, 4 }, reflected2d.shape);
        CollectionAssert.AreEqual(new float[] { 4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3 }, reflected2d.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 1, 2, 3, 3, 4, 3, 3, 4 }, replicated2d.data<float>().ToArray());
    }

    [TestMethod]
    public void ThreeDimensionalPads_PadEachOfTheLastThreeDims()
    {
        using var scope = NewDisposeScope();
        var cube = arange(8, ScalarType.Float32).reshape(1, 2, 2, 2);

        var reflected = Op("aten.reflection_pad3d.default", cube, T("self", "x"), Is("padding", 1, 1, 1, 1, 1, 1));
        var replicated = Op("aten.replication_pad3d.default", cube, T("self", "x"), Is("padding", 0, 1, 0, 0, 1, 0));

        CollectionAssert.AreEqual(new long[] { 1, 4, 4, 4 }, reflected.shape);
        // Reflection about the first plane, row and column maps index 0 to 1: the corner is cube[1, 1, 1] = 7.
        Assert.AreEqual(7f, reflected[0, 0, 0, 0].item<float>());
        Assert.AreEqual(0f, reflected[0, 1, 1, 1].item<float>());
        CollectionAssert.AreEqual(new long[] { 1, 3, 2, 3 }, replicated.shape);
        CollectionAssert.AreEqual(new float[] { 0, 1, 1, 2, 3, 3 }, replicated[0, 0].reshape(-1).data<float>().ToArray());
    }

    [TestMethod]
    public void Col2Im_UndoesIm2Col_ForWindowsThatDoNotOverlap_AndSumsWhereTheyDo()
    {
        using var scope = NewDisposeScope();
        var image = Random(2, 3, 4, 6);
        var columns = Op("aten.im2col.default", image, T("self", "x"), Is("kernel_size", 2, 2), Is("dilation", 1, 1), Is("padding", 0, 0), Is("stride", 2, 2));
        var ones = ones_like(image);
        var overlapping = Op("aten.im2col.default", ones, T("self", "x"), Is("kernel_size", 3, 3), Is("dilation", 1, 1), Is("padding", 1, 1), Is("stride", 1, 1));

        var back = Op("aten.col2im.default", columns, T("self", "x"), Is("output_size", 4, 6), Is("kernel_size", 2, 2), Is("dilation", 1, 1), Is("padding", 0, 0), Is("stride", 2, 2));
        var counts = Op("aten.col2im.default", overlapping, T("self", "x"), Is("output_size", 4, 6), Is("kernel_size", 3, 3), Is("dilation", 1, 1), Is("padding", 1, 1), Is("stride", 1, 1));

        AssertClose(image, back);
        // With 3x3 windows at stride 1 and padding 1 a corner lies in 4 windows, an edge pixel in 6, an inner one in 9.
        CollectionAssert.AreEqual(new float[] { 4, 6, 6, 6, 6, 4 }, counts[0, 0, 0].data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 6, 9, 9, 9, 9, 6 }, counts[0, 0, 1].data<float>().ToArray());
    }

    [TestMethod]
    public void Im2Col_OfAnUnbatchedImage_IsTheRowOfItsBatch()
    {
        using var scope = NewDisposeScope();
        var image = Random(2, 3, 5, 6);
        NamedArgument[] window = [T("self", "x"), Is("kernel_size", 3, 2), Is("dilation", 1, 2), Is("padding", 1, 1), Is("stride", 2, 1)];

        var batch = Op("aten.im2col.default", image, window);
        var single = Op("aten.im2col.default", image[1], window);

        CollectionAssert.AreEqual(batch.shape[1..], single.shape);
        AssertClose(batch[1], single);
    }

    [TestMethod]
    public void NativeLayerNormBackward_MatchesAutograd()
    {
        using var scope = NewDisposeScope();
        var input = Random(3, 4, 5);
        var weight = Random(5).add(1);
        var bias = Random(5);
        var grad = Random(3, 4, 5).mul(2);
        var (expectedInput, expectedWeight, expectedBias) = Autograd(input, weight, bias, grad, (x, w, b) => F.layer_norm(x, [5], w, b, 1e-5));
        var mean = input.mean([2], keepdim: true);
        var rstd = input.var(2, unbiased: false, keepdim: true).add(1e-5).rsqrt();

        var values = new Dictionary<string, object> { ["g"] = grad, ["x"] = input, ["m"] = mean, ["r"] = rstd, ["w"] = weight, ["b"] = bias };
        var node = new GraphNode(Full("aten.native_layer_norm_backward.default"),
            [T("grad_out", "g"), T("input", "x"), Is("normalized_shape", 5), T("mean", "m"), T("rstd", "r"), T("weight", "w"), T("bias", "b"),
             new NamedArgument("output_mask", new BoolsArg([true, true, true]))],
            [new TensorArg("gi"), new TensorArg("gw"), new TensorArg("gb")]);
        var result = OpKernels.Invoke(node, n => values[n]);

        AssertClose(expectedInput, (Tensor)result[0]!, 1e-4, "grad_input");
        AssertClose(expectedWeight, (Tensor)result[1]!, 1e-4, "grad_weight");
        AssertClose(expectedBias, (Tensor)result[2]!, 1e-4, "grad_bias");
    }

    [TestMethod]
    public void NativeGroupNormBackward_MatchesAutograd()
    {
        using var scope = NewDisposeScope();
        var input = Random(2, 6, 3, 2);
        var weight = Random(6).add(1);
        var bias = Random(6);
        var grad = Random(2, 6, 3, 2).mul(3);
        var (expectedInput, expectedWeight, expectedBias) = Autograd(input, weight, bias, grad, (x, w, b) => F.group_norm(x, 3, w, b, 1e-5));
        var grouped = input.reshape(2, 3, -1);
        var mean = grouped.mean([2]);
        var rstd = grouped.var(2, unbiased: false).add(1e-5).rsqrt();

        var values = new Dictionary<string, object> { ["g"] = grad, ["x"] = input, ["m"] = mean, ["r"] = rstd, ["w"] = weight };
        var node = new GraphNode(Full("aten.native_group_norm_backward.default"),
            [T("grad_out", "g"), T("input", "x"), T("mean", "m"), T("rstd", "r"), T("weight", "w"), I("N", 2), I("C", 6), I("HxW", 6), I("group", 3),
             new NamedArgument("output_mask", new BoolsArg([true, true, true]))],
            [new TensorArg("gi"), new TensorArg("gw"), new TensorArg("gb")]);
        var result = OpKernels.Invoke(node, n => values[n]);

        AssertClose(expectedInput, (Tensor)result[0]!, 1e-4, "grad_input");
        AssertClose(expectedWeight, (Tensor)result[1]!, 1e-4, "grad_weight");
        AssertClose(expectedBias, (Tensor)result[2]!, 1e-4, "grad_bias");
    }

    [TestMethod]
    public void AdaptiveAvgPoolBackward_SpreadsEachGradientEvenlyOverItsWindow()
    {
        using var scope = NewDisposeScope();
        var input = Random(1, 2, 4, 4);
        var grad = F32([4, 8, 12, 16, 1, 2, 3, 4], 1, 2, 2, 2);

        var spread = Op("aten._adaptive_avg_pool2d_backward.default", [grad, input], T("grad_output", "x"), T("self", "y"));

        CollectionAssert.AreEqual(input.shape, spread.shape);
        CollectionAssert.AreEqual(new float[] { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 }, spread[0, 0].reshape(-1).data<float>().ToArray());
        Assert.AreEqual(0.25f, spread[0, 1, 0, 0].item<float>());
    }

    [TestMethod]
    public void SymNumel_IsTheElementCount()
    {
        using var scope = NewDisposeScope();
        var node = new GraphNode(Full("aten.sym_numel.default"), [T("self", "x")], [new SymIntArg(new SymInt(null, "n"))]);

        var result = OpKernels.Invoke(node, n => Random(3, 4, 5));

        Assert.AreEqual(60L, result[0]);
    }

    [TestMethod]
    public void StrideOneTransposedConvolution_GivesTheSameValuesOnEveryRun()
    {
        using var scope = NewDisposeScope();
        var input = Random(2, 4, 8, 8);
        var weight = Random(4, 3, 3, 3);
        NamedArgument[] args = [T("input", "x"), T("weight", "y"), Is("stride", 1, 1), Is("padding", 1, 1), Is("output_padding", 0, 0), Is("dilation", 1, 1)];
        var first = Op("aten.conv_transpose2d.input", [input, weight], args);

        for (var run = 0; run < 20; run++)
        {
            using var again = Op("aten.conv_transpose2d.input", [input, weight], args);
            Assert.IsTrue(first.allclose(again, rtol: 0, atol: 0), $"run {run} differs");
        }
    }

    private static (Tensor Input, Tensor Weight, Tensor Bias) Autograd(Tensor input, Tensor weight, Tensor bias, Tensor grad, Func<Tensor, Tensor, Tensor, Tensor> forward)
    {
        var leaves = new[] { input, weight, bias }.Select(t => t.clone().requires_grad_()).ToArray();
        var output = forward(leaves[0], leaves[1], leaves[2]);
        var grads = autograd.grad([output], leaves, [grad]);
        return (grads[0].detach(), grads[1].detach(), grads[2].detach());
    }
}
