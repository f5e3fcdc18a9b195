using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>
/// Kernels for operators that models export but no OpInfo program of tests/fixtures/ops reaches: interpolation modes,
/// padded and 3-d convolutions, the functional forms functionalization rewrites in-place ops to, and a few layers.
/// </summary>
[TestClass]
public sealed class ModelOpKernelTests
{
    [TestMethod]
    public void NearestAndLinearUpsampling_InOneAndThreeDims_MatchTheirDefinitions()
    {
        using var scope = NewDisposeScope();
        var pair = F32([0, 3], 1, 1, 2);
        var cube = arange(8, ScalarType.Float32).reshape(1, 1, 2, 2, 2);

        var nearest = Op("aten.upsample_nearest1d.vec", pair, T("input", "x"), Is("output_size", 4));
        var linear = Op("aten.upsample_linear1d.vec", pair, T("input", "x"), Is("output_size", 4), B("align_corners", true));
        var nearest3d = Op("aten.upsample_nearest3d.vec", cube, T("input", "x"), Kw("scale_factors", new FloatsArg([2.0, 2.0, 2.0])));
        var trilinear = Op("aten.upsample_trilinear3d.vec", cube, T("input", "x"), Is("output_size", 3, 3, 3), B("align_corners", true));

        CollectionAssert.AreEqual(new float[] { 0, 0, 3, 3 }, nearest.data<float>().ToArray());
        AssertClose(F32([0, 1, 2, 3], 1, 1, 4), linear);
        CollectionAssert.AreEqual(new long[] { 1, 1, 4, 4, 4 }, nearest3d.shape);
        Assert.AreEqual(7f, nearest3d[0, 0, 3, 2, 3].item<float>());
        // With align_corners the middle sample is the mean of the eight corners.
        Assert.AreEqual(3.5f, trilinear[0, 0, 1, 1, 1].item<float>(), 1e-6f);
    }

    [TestMethod]
    public void AntialiasedBicubicDownsampling_KeepsAConstantImageConstant()
    {
        using var scope = NewDisposeScope();
        var image = full([1, 2, 8, 8], 2f);

        var small = Op("aten._upsample_bicubic2d_aa.vec", image, T("input", "x"), Is("output_size", 3, 5), B("align_corners", false));

        AssertClose(full([1, 2, 3, 5], 2f), small);
    }

    [TestMethod]
    [DataRow("aten.conv2d.padding", 2)]
    [DataRow("aten.conv3d.padding", 3)]
    public void SamePaddedConvolution_KeepsTheSpatialSize_AndEqualsSymmetricPaddingForOddKernels(string target, int rank)
    {
        using var scope = NewDisposeScope();
        var input = Random([2, 3, .. Enumerable.Repeat(5L, rank)]);
        var weight = Random([4, 3, .. Enumerable.Repeat(3L, rank)]);

        var same = Op(target, [input, weight], T("input", "x"), T("weight", "y"), S("padding", "same"));
        var explicitly = Op("aten.convolution.default", [input, weight], T("input", "x"), T("weight", "y"), new NamedArgument("bias", new NoneArg()),
            Is("stride", [.. Enumerable.Repeat(1L, rank)]), Is("padding", [.. Enumerable.Repeat(1L, rank)]), Is("dilation", [.. Enumerable.Repeat(1L, rank)]),
            B("transposed", false), Is("output_padding", [.. Enumerable.Repeat(0L, rank)]), I("groups", 1));

        AssertClose(explicitly, same, 1e-5);
    }

    [TestMethod]
    public void TransposedConvolution3d_IsTheAdjointOfConvolution()
    {
        using var scope = NewDisposeScope();
        var weight = Random(4, 2, 3, 3, 3);
        var x = Random(1, 4, 3, 3, 3);
        var y = Random(1, 2, 6, 6, 6).mul(0.5);
        NamedArgument[] window = [Is("stride", 2, 2, 2), Is("padding", 1, 1, 1), Is("dilation", 1, 1, 1)];

        var up = Op("aten.conv_transpose3d.input", [x, weight], [T("input", "x"), T("weight", "y"), .. window, Is("output_padding", 1, 1, 1)]);
        var down = Op("aten.conv3d.default", [y, weight], [T("input", "x"), T("weight", "y"), .. window]);

        // <conv_transpose(x), y> = <x, conv(y)> for the same weight, stride, padding and dilation.
        CollectionAssert.AreEqual(y.shape, up.shape);
        Assert.AreEqual(up.mul(y).sum().item<float>(), x.mul(down).sum().item<float>(), 1e-3f);
    }

    [TestMethod]
    public void EmbeddingRenorm_ScalesTheLookedUpRowsAboveMaxNorm_Only()
    {
        using var scope = NewDisposeScope();
        var weight = F32([3, 4, 0.3f, 0.4f, 6, 8], 3, 2);
        var indices = tensor(new long[] { 0, 1, 0 });

        var renormed = Op("aten.embedding_renorm.default", [weight, indices], T("self", "x"), T("indices", "y"), D("max_norm", 1), D("norm_type", 2));

        AssertClose(F32([0.6f, 0.8f, 0.3f, 0.4f, 6, 8], 3, 2), renormed, 1e-5);
    }

    [TestMethod]
    public void RandomFunctionalForms_DrawFromTheirDistributions()
    {
        using var scope = NewDisposeScope();
        var like = zeros(1000);

        var uniform = Op("aten.uniform.default", like, T("self", "x"), D("from", -2), D("to", 3));
        var exponential = Op("aten.exponential.default", like, T("self", "x"), D("lambd", 2));
        var standard = Op("aten.rand_like.default", like, T("self", "x"));
        var cauchy = Op("aten.cauchy.default", like, T("self", "x"), D("median", 5), D("sigma", 1));
        var geometric = Op("aten.geometric.default", like, T("self", "x"), D("p", 0.5));
        var logNormal = Op("aten.log_normal.default", like, T("self", "x"), D("mean", 0), D("std", 1));

        Assert.IsTrue(uniform.ge(-2).all().item<bool>() && uniform.lt(3).all().item<bool>());
        Assert.AreEqual(0.5, uniform.mean().item<float>(), 0.3);
        Assert.IsTrue(exponential.ge(0).all().item<bool>());
        Assert.AreEqual(0.5, exponential.mean().item<float>(), 0.15);
        Assert.IsTrue(standard.ge(0).all().item<bool>() && standard.lt(1).all().item<bool>());
        Assert.AreEqual(5, cauchy.median().item<float>(), 0.3);
        Assert.IsTrue(geometric.ge(1).all().item<bool>() && geometric.eq(geometric.floor()).all().item<bool>());
        Assert.AreEqual(2, geometric.mean().item<float>(), 0.3);
        Assert.IsTrue(logNormal.gt(0).all().item<bool>());
        Assert.AreEqual(1, logNormal.median().item<float>(), 0.2);
    }

    [TestMethod]
    public void LayerFunctions_GluLogSigmoidPixelUnshuffle()
    {
        using var scope = NewDisposeScope();
        var halves = F32([1, 2, 0, 100], 1, 4);
        var image = arange(16, ScalarType.Float32).reshape(1, 1, 4, 4);

        var glu = Op("aten.glu.default", halves, T("self", "x"), I("dim", -1));
        var logSigmoid = Op("aten.log_sigmoid.default", F32([0], 1), T("self", "x"));
        var unshuffled = Op("aten.pixel_unshuffle.default", image, T("self", "x"), I("downscale_factor", 2));
        var back = Op("aten.pixel_shuffle.default", unshuffled, T("self", "x"), I("upscale_factor", 2));

        AssertClose(F32([0.5f, 2], 1, 2), glu);
        Assert.AreEqual(Math.Log(0.5), logSigmoid.item<float>(), 1e-6);
        CollectionAssert.AreEqual(new long[] { 1, 4, 2, 2 }, unshuffled.shape);
        CollectionAssert.AreEqual(new float[] { 0, 2, 8, 10 }, unshuffled[0, 0].reshape(-1).data<float>().ToArray());
        AssertClose(image, back);
    }

    [TestMethod]
    public void Arithmetic_MultiplyClampMinNanToNum()
    {
        using var scope = NewDisposeScope();
        var x = F32([1, -2, 3], 3);
        var floor = F32([0, 0, 5], 3);
        var special = F32([float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1], 4);

        var product = Op("aten.multiply.Tensor", [x, floor], T("self", "x"), T("other", "y"));
        var clamped = Op("aten.clamp_min.Tensor", [x, floor], T("self", "x"), T("min", "y"));
        var cleaned = Op("aten.nan_to_num.default", special, T("self", "x"), D("nan", 7), D("posinf", 8), D("neginf", -9));

        CollectionAssert.AreEqual(new float[] { 0, 0, 15 }, product.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 1, 0, 5 }, clamped.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 7, 8, -9, 1 }, cleaned.data<float>().ToArray());
    }

    [TestMethod]
    public void Indexing_IndexAddScatterReduceNonzeroRepeatInterleave()
    {
        using var scope = NewDisposeScope();
        var self = F32([1, 1, 1, 1], 4);
        var index = tensor(new long[] { 0, 2, 0 });
        var source = F32([1, 2, 3], 3);

        var added = Op("aten.index_add.default", [self, index, source], T("self", "x"), I("dim", 0), T("index", "y"), T("source", "z"), I("alpha", 2));
        var multiplied = Op("aten.scatter.reduce", [self.mul(2), index, source], T("self", "x"), I("dim", 0), T("index", "y"), T("src", "z"), S("reduce", "multiply"));
        var summed = Op("aten.scatter.reduce", [self, index, source], T("self", "x"), I("dim", 0), T("index", "y"), T("src", "z"), S("reduce", "add"));
        var nonzero = Op("aten.nonzero.default", F32([0, 5, -1, 0], 2, 2), T("self", "x"));
        var repeated = Op("aten.repeat_interleave.self_int", tensor(new long[] { 1, 2 }), T("self", "x"), I("repeats", 2));

        CollectionAssert.AreEqual(new float[] { 9, 1, 5, 1 }, added.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 6, 2, 4, 2 }, multiplied.data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 5, 1, 3, 1 }, summed.data<float>().ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 1, 0 }, nonzero.data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 1, 1, 2, 2 }, repeated.data<long>().ToArray());
    }

    [TestMethod]
    public void WeightNorm_ScalesEachSliceOfDimToTheNormG()
    {
        using var scope = NewDisposeScope();
        var v = F32([3, 0, 4, 1, 2, 2], 1, 2, 3);
        var g = F32([10, 20, 30], 1, 1, 3);

        // dim 2 (wav2vec2's positional convolution): the norm of each v[:, :, k] is 3.1623, 2 and 4.4721.
        var w = Op("aten._weight_norm.default", [v, g], T("v", "x"), T("g", "y"), I("dim", 2));
        var whole = Op("aten._weight_norm.default", [v, F32([3], 1, 1, 1)], T("v", "x"), T("g", "y"), I("dim", -1));

        var expected = v.mul(g).div(F32([(float)Math.Sqrt(10), 2, (float)Math.Sqrt(20)], 1, 1, 3));
        AssertClose(expected, w, 1e-5);
        AssertClose(v.mul(3).div(Math.Sqrt(34)), whole, 1e-5);
    }

    [TestMethod]
    public void Unflatten_TakesANegativeDim()
    {
        using var scope = NewDisposeScope();

        var split = Op("aten.unflatten.int", zeros(4, 1, 6), T("self", "x"), I("dim", -1), Is("sizes", 2, 3));

        CollectionAssert.AreEqual(new long[] { 4, 1, 2, 3 }, split.shape);
    }

    [TestMethod]
    public void SymSize_IsTheDimsLength()
    {
        using var scope = NewDisposeScope();
        var node = new GraphNode(Full("aten.sym_size.int"), [T("self", "x"), I("dim", -1)], [new SymIntArg(new SymInt(null, "s"))]);

        var size = OpKernels.Invoke(node, _ => zeros(2, 7))[0];

        Assert.AreEqual(7L, size);
    }

    [TestMethod]
    public void BatchNormNoUpdate_IsInferenceBatchNorm_WithEmptyStatistics()
    {
        using var scope = NewDisposeScope();
        var input = Random(2, 3, 4);
        var (mean, variance, weight, bias) = (F32([1, 0, -1], 3), F32([1, 4, 0.25f], 3), F32([1, 2, 3], 3), F32([0, 1, 0], 3));
        var values = new Dictionary<string, object> { ["x"] = input, ["m"] = mean, ["v"] = variance, ["w"] = weight, ["b"] = bias };
        var node = new GraphNode(Full("aten._batch_norm_no_update.default"),
            [T("input", "x"), T("weight", "w"), T("bias", "b"), T("running_mean", "m"), T("running_var", "v"), D("momentum", 0.1), D("eps", 0)],
            [new TensorArg("out"), new TensorArg("save_mean"), new TensorArg("save_rstd"), new TensorArg("reserve")]);

        var result = OpKernels.Invoke(node, n => values[n]);

        var expected = input.sub(mean.reshape(1, 3, 1)).div(variance.sqrt().reshape(1, 3, 1)).mul(weight.reshape(1, 3, 1)).add(bias.reshape(1, 3, 1));
        AssertClose(expected, (Tensor)result[0]!, 1e-5);
        Assert.AreEqual(0L, ((Tensor)result[1]!).numel());
        Assert.AreEqual(0L, ((Tensor)result[3]!).numel());
    }
}
