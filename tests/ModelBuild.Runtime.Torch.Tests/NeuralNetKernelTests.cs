using ModelBuild.Engine.Graph;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class NeuralNetKernelTests
{
    [TestMethod]
    public void MatrixProducts_MatchTheirDefinitions()
    {
        using var scope = NewDisposeScope();
        var a = Random(2, 3);
        var w = Random(4, 3) * 0.5;
        var bias = Random(4) * 0.1;
        Tensor[] awb = [a, w, bias];
        AssertClose(a.matmul(w.t()) + bias, Op("aten.linear.default", awb, T("input", "x"), T("weight", "y"), T("bias", "z")));
        AssertClose(a.matmul(w.t()), Op("aten.linear.default", awb, T("input", "x"), T("weight", "y")));
        AssertClose(bias + a.matmul(w.t()), Op("aten.addmm.default", [bias, a, w.t()], T("self", "x"), T("mat1", "y"), T("mat2", "z")));
        AssertClose((bias * 0.5) + (a.matmul(w.t()) * 2), Op("aten.addmm.default", [bias, a, w.t()], T("self", "x"), T("mat1", "y"), T("mat2", "z"), Kw("beta", new FloatArg(0.5)), Kw("alpha", new IntArg(2))));
        AssertClose(a.matmul(w.t()), Op("aten.mm.default", [a, w.t()], T("self", "x"), T("mat2", "y")));
        var b1 = Random(2, 3, 4);
        var b2 = Random(2, 4, 5);
        var bias3 = Random(2, 3, 5);
        AssertClose(b1.matmul(b2), Op("aten.bmm.default", [b1, b2], T("self", "x"), T("mat2", "y")));
        AssertClose(b1.matmul(b2), Op("aten.matmul.default", [b1, b2], T("self", "x"), T("other", "y")));
        AssertClose(bias3 + (b1.matmul(b2) * 0.5), Op("aten.baddbmm.default", [bias3, b1, b2], T("self", "x"), T("batch1", "y"), T("batch2", "z"), Kw("alpha", new FloatArg(0.5))));
    }

    [TestMethod]
    public void Convolution_DefaultsToStrideOneNoPaddingOneGroup()
    {
        using var scope = NewDisposeScope();
        var x = Random(1, 2, 5, 5);
        var w = ones(3, 2, 1, 1);
        var channelSum = x.sum(1, keepdim: true).expand(1, 3, 5, 5);
        AssertClose(channelSum, Op("aten.conv2d.default", [x, w], T("input", "x"), T("weight", "y")), 1e-5);

        var w3 = Random(4, 2, 3, 3);
        var bias = Random(4);
        Tensor[] xwb = [x, w3, bias];
        var expected = F.conv2d(x, w3, bias, [2, 2], [1, 1], [1, 1], 1);
        AssertClose(expected, Op("aten.conv2d.default", xwb, T("input", "x"), T("weight", "y"), T("bias", "z"), Is("stride", 2, 2), Is("padding", 1, 1)));
        AssertClose(expected, Op("aten.convolution.default", xwb, T("input", "x"), T("weight", "y"), T("bias", "z"), Is("stride", 2, 2), Is("padding", 1, 1),
            Is("dilation", 1, 1), B("transposed", false), Is("output_padding", 0, 0), I("groups", 1)));

        var depthwise = Random(2, 1, 3, 3);
        AssertClose(F.conv2d(x, depthwise, null, [1, 1], [1, 1], [1, 1], 2), Op("aten.conv2d.default", [x, depthwise], T("input", "x"), T("weight", "y"), Is("padding", 1), I("groups", 2)));

        var signal = Random(2, 3, 11);
        var w1 = Random(4, 3, 3);
        AssertClose(F.conv1d(signal, w1, null, 2, 0, 1, 1), Op("aten.conv1d.default", [signal, w1], T("input", "x"), T("weight", "y"), Is("stride", 2)));
        AssertClose(F.conv1d(signal, w1, null, 2, 0, 1, 1), Op("aten.convolution.default", [signal, w1], T("input", "x"), T("weight", "y"), new NamedArgument("bias", new NoneArg()),
            Is("stride", 2), Is("padding", 0), Is("dilation", 1), B("transposed", false), Is("output_padding", 0), I("groups", 1)));
    }

    [TestMethod]
    public void ConvolutionPaddingSame_KeepsTheLengthAndPadsTheOddElementRight()
    {
        using var scope = NewDisposeScope();
        var signal = Random(1, 1, 6);
        var w = Random(1, 1, 4);

        var same = Op("aten.conv1d.padding", [signal, w], T("input", "x"), T("weight", "y"), S("padding", "same"));

        AssertClose(F.conv1d(F.pad(signal, [1, 2]), w), same);
        AssertClose(F.conv1d(signal, w), Op("aten.conv1d.padding", [signal, w], T("input", "x"), T("weight", "y"), S("padding", "valid")));
    }

    [TestMethod]
    public void TransposedConvolution_MatchesTorchSharp()
    {
        using var scope = NewDisposeScope();
        var x = Random(1, 2, 4, 4);
        var w = Random(2, 3, 3, 3);

        var actual = Op("aten.convolution.default", [x, w], T("input", "x"), T("weight", "y"), new NamedArgument("bias", new NoneArg()),
            Is("stride", 2, 2), Is("padding", 1, 1), Is("dilation", 1, 1), B("transposed", true), Is("output_padding", 1, 1), I("groups", 1));

        AssertClose(F.conv_transpose2d(x, w, null, [2, 2], [1, 1], [1, 1], [1, 1], 1), actual);
    }

    [TestMethod]
    public void Normalizations_MatchTheirFormulas()
    {
        using var scope = NewDisposeScope();
        var x = Random(2, 3, 4, 4);
        var mean = Random(3) * 0.1;
        var variance = rand(3) + 0.5;
        var weight = Random(3);
        var bias = Random(3);
        Tensor C(Tensor v) => v.reshape(1, 3, 1, 1);
        var bn = ((x - C(mean)) / (C(variance) + 1e-5).sqrt() * C(weight)) + C(bias);
        NamedArgument[] bnArgs = [T("input", "x"), T("weight", "y"), T("bias", "z"), T("running_mean", "{"), T("running_var", "|"), D("momentum", 0.1), D("eps", 1e-5)];
        var values = new Dictionary<string, object> { ["x"] = x, ["y"] = weight, ["z"] = bias, ["{"] = mean, ["|"] = variance };
        AssertClose(bn, (Tensor)Invoke("aten.batch_norm.default", values, 1, [.. bnArgs, B("training", false), B("cudnn_enabled", true)])[0]!, 1e-4);
        var legit = Invoke("aten._native_batch_norm_legit_no_training.default", values, 3, bnArgs);
        AssertClose(bn, (Tensor)legit[0]!, 1e-4);
        Assert.AreEqual(0L, ((Tensor)legit[1]!).numel());

        var h = Random(2, 5, 8);
        var lw = Random(8);
        var lb = Random(8);
        var mu = h.mean([-1], keepdim: true);
        var rstd = (h.var(-1, unbiased: false, keepdim: true) + 1e-5).rsqrt();
        var ln = ((h - mu) * rstd * lw) + lb;
        AssertClose(ln, Op("aten.layer_norm.default", [h, lw, lb], T("input", "x"), Is("normalized_shape", 8), T("weight", "y"), T("bias", "z")), 1e-4);
        AssertClose((h - mu) * rstd, Op("aten.layer_norm.default", [h], T("input", "x"), Is("normalized_shape", 8)), 1e-4);
        var native = Invoke("aten.native_layer_norm.default", Values(h, lw, lb), 3, T("input", "x"), Is("normalized_shape", 8), T("weight", "y"), T("bias", "z"), D("eps", 1e-5));
        AssertClose(ln, (Tensor)native[0]!, 1e-4);
        AssertClose(mu, (Tensor)native[1]!, 1e-5);
        AssertClose(rstd, (Tensor)native[2]!, 1e-3);

        var g = Random(2, 4, 3);
        var grouped = g.reshape(2, 2, 6);
        var gn = ((grouped - grouped.mean([2], keepdim: true)) * (grouped.var(2, unbiased: false, keepdim: true) + 1e-5).rsqrt()).reshape(2, 4, 3);
        AssertClose(gn, Op("aten.group_norm.default", [g], T("input", "x"), I("num_groups", 2)), 1e-4);
        var nativeGroup = Invoke("aten.native_group_norm.default", Values(g), 3, T("input", "x"), new NamedArgument("weight", new NoneArg()), new NamedArgument("bias", new NoneArg()),
            I("N", 2), I("C", 4), I("HxW", 3), I("group", 2), D("eps", 1e-5));
        AssertClose(gn, (Tensor)nativeGroup[0]!, 1e-4);
        AssertClose(grouped.mean([2]), (Tensor)nativeGroup[1]!, 1e-5);
        var inorm = (g - g.mean([2], keepdim: true)) * (g.var(2, unbiased: false, keepdim: true) + 1e-5).rsqrt();
        AssertClose(inorm, Op("aten.instance_norm.default", [g], T("input", "x"), new NamedArgument("weight", new NoneArg()), new NamedArgument("bias", new NoneArg()),
            new NamedArgument("running_mean", new NoneArg()), new NamedArgument("running_var", new NoneArg()), B("use_input_stats", true), D("momentum", 0.1), D("eps", 1e-5), B("cudnn_enabled", false)), 1e-4);
    }

    [TestMethod]
    public void Pooling_DefaultsTheStrideToTheKernel()
    {
        using var scope = NewDisposeScope();
        var x = arange(16, ScalarType.Float32).reshape(1, 1, 4, 4);
        var self = T("self", "x");
        AssertClose(F32([5, 7, 13, 15], 1, 1, 2, 2), Op("aten.max_pool2d.default", x, self, Is("kernel_size", 2, 2)));
        var withIndices = Invoke("aten.max_pool2d_with_indices.default", Values(x), 2, self, Is("kernel_size", 2));
        AssertClose(F32([5, 7, 13, 15], 1, 1, 2, 2), (Tensor)withIndices[0]!);
        CollectionAssert.AreEqual(new long[] { 5, 7, 13, 15 }, ((Tensor)withIndices[1]!).data<long>().ToArray());
        AssertClose(F32([2.5f, 4.5f, 10.5f, 12.5f], 1, 1, 2, 2), Op("aten.avg_pool2d.default", x, self, Is("kernel_size", 2, 2)));
        AssertClose(F32([5, 6, 7, 9, 10, 11, 13, 14, 15], 1, 1, 3, 3), Op("aten.max_pool2d.default", x, self, Is("kernel_size", 2, 2), Is("stride", 1, 1)));
        AssertClose(F32([7.5f], 1, 1, 1, 1), Op("aten.adaptive_avg_pool2d.default", x, self, Is("output_size", 1, 1)));
        AssertClose(F32([7.5f], 1, 1, 1, 1), Op("aten._adaptive_avg_pool2d.default", x, self, Is("output_size", 1, 1)));

        var line = arange(6, ScalarType.Float32).reshape(1, 1, 6);
        AssertClose(F32([1, 3, 5], 1, 1, 3), Op("aten.max_pool1d.default", line, self, Is("kernel_size", 2)));
        AssertClose(F32([1, 3, 5], 1, 1, 3), (Tensor)Invoke("aten.max_pool1d_with_indices.default", Values(line), 2, self, Is("kernel_size", 2))[0]!);
        AssertClose(F32([0.5f, 2.5f, 4.5f], 1, 1, 3), Op("aten.avg_pool1d.default", line, self, Is("kernel_size", 2)));
        AssertClose(F32([1, 4], 1, 1, 2), Op("aten.adaptive_avg_pool1d.default", line, self, Is("output_size", 2)));
        AssertClose(x.repeat_interleave(2, 2).repeat_interleave(2, 3), Op("aten.upsample_nearest2d.vec", x, T("input", "x"), new NamedArgument("output_size", new NoneArg()), new NamedArgument("scale_factors", new FloatsArg([2.0, 2.0]))));
    }

    [TestMethod]
    public void Attention_MatchesSoftmaxOfScaledScoresWithMaskScaleAndCausality()
    {
        using var scope = NewDisposeScope();
        var q = Random(2, 3, 5, 8);
        var k = Random(2, 3, 5, 8) * 0.7;
        var v = Random(2, 3, 5, 8) * 1.3;
        Tensor Manual(double scale, Tensor? bias) =>
            ((q.matmul(k.transpose(-2, -1)) * scale) + (bias ?? zeros(1))).softmax(-1).matmul(v);
        Tensor[] qkv = [q, k, v];
        NamedArgument[] args = [T("query", "x"), T("key", "y"), T("value", "z")];

        AssertClose(Manual(1 / Math.Sqrt(8), null), Op("aten.scaled_dot_product_attention.default", qkv, args), 1e-5);
        AssertClose(Manual(0.3, null), Op("aten.scaled_dot_product_attention.default", qkv, [.. args, Kw("scale", new FloatArg(0.3))]), 1e-5);
        var causalBias = full(5, 5, float.NegativeInfinity).triu(1);
        AssertClose(Manual(1 / Math.Sqrt(8), causalBias), Op("aten.scaled_dot_product_attention.default", qkv, [.. args, D("dropout_p", 0), B("is_causal", true)]), 1e-5);
        var additive = Random(5, 5);
        var values = new Dictionary<string, object> { ["x"] = q, ["y"] = k, ["z"] = v, ["m"] = additive };
        AssertClose(Manual(1 / Math.Sqrt(8), additive), (Tensor)Invoke("aten.scaled_dot_product_attention.default", values, 1, [.. args, T("attn_mask", "m")])[0]!, 1e-5);
    }

    [TestMethod]
    public void Lstm_MatchesTorchSharpsLstmModule()
    {
        using var scope = NewDisposeScope();
        using var lstm = nn.LSTM(4, 6, numLayers: 2, bidirectional: true, batchFirst: true);
        var x = Random(3, 5, 4);
        var h0 = Random(4, 3, 6) * 0.1;
        var c0 = Random(4, 3, 6) * 0.1;
        var (expected, hn, cn) = lstm.forward(x, (h0, c0));

        var values = new Dictionary<string, object> { ["x"] = x, ["h"] = h0, ["c"] = c0 };
        var names = FlatWeights(lstm, 2, true, values);
        var outputs = Invoke("aten.lstm.input", values, 3, T("input", "x"), Ts("hx", "h", "c"), Ts("params", names), B("has_biases", true), I("num_layers", 2),
            D("dropout", 0), B("train", false), B("bidirectional", true), B("batch_first", true));

        AssertClose(expected, (Tensor)outputs[0]!, 1e-5);
        AssertClose(hn, (Tensor)outputs[1]!, 1e-5);
        AssertClose(cn, (Tensor)outputs[2]!, 1e-5);
    }

    [TestMethod]
    public void Gru_MatchesTorchSharpsGruModule()
    {
        using var scope = NewDisposeScope();
        using var gru = nn.GRU(4, 6, numLayers: 1);
        var x = Random(5, 3, 4);
        var h0 = Random(1, 3, 6) * 0.1;
        var (expected, hn) = gru.forward(x, h0);

        var values = new Dictionary<string, object> { ["x"] = x, ["h"] = h0 };
        var names = FlatWeights(gru, 1, false, values);
        var outputs = Invoke("aten.gru.input", values, 2, T("input", "x"), T("hx", "h"), Ts("params", names), B("has_biases", true), I("num_layers", 1),
            D("dropout", 0), B("train", false), B("bidirectional", false), B("batch_first", false));

        AssertClose(expected, (Tensor)outputs[0]!, 1e-5);
        AssertClose(hn, (Tensor)outputs[1]!, 1e-5);
    }

    /// <summary>The module's parameters in aten's flat order, added to <paramref name="values"/>; returns their names.</summary>
    private static string[] FlatWeights(nn.Module module, int layers, bool bidirectional, Dictionary<string, object> values)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var names = new List<string>();
        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var suffix in bidirectional ? new[] { "", "_reverse" } : [""])
            {
                foreach (var kind in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" })
                {
                    var name = $"{kind}_l{layer}{suffix}";
                    values[name] = parameters[name].detach();
                    names.Add(name);
                }
            }
        }

        return [.. names];
    }
}
