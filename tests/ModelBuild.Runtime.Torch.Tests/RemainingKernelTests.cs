using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>The kernels the families' tests leave out: less common overloads, layers and the no-op assertions.</summary>
[TestClass]
public sealed class RemainingKernelTests
{
    [TestMethod]
    public void ArithmeticOverloads_MatchHandValues()
    {
        using var scope = NewDisposeScope();
        var x = F32([-7f, 7f, 2f], 3);
        var y = F32([3f, 3f, 3f], 3);
        Tensor[] xy = [x, y];
        NamedArgument[] selfOther = [T("self", "x"), T("other", "y")];
        AssertClose(F32([2f, 1f, 2f], 3), Op("aten.remainder.Tensor", xy, selfOther));
        AssertClose(F32([2f, 1f, 2f], 3), Op("aten.remainder.Scalar", x, T("self", "x"), I("other", 3)));
        AssertClose(F32([-1f, 1f, 2f], 3), Op("aten.fmod.Tensor", xy, selfOther));
        AssertClose(F32([-1f, 1f, 2f], 3), Op("aten.fmod.Scalar", x, T("self", "x"), I("other", 3)));
        AssertClose(F32([-3f, 2f, 0f], 3), Op("aten.floor_divide.default", xy, selfOther));
        AssertClose(F32([-343f, 343f, 8f], 3), Op("aten.pow.Tensor_Tensor", xy, T("self", "x"), T("exponent", "y")));
        AssertClose(F32([-3f, 3f, 2f], 3), Op("aten.clamp.Tensor", [x, F32([-3f], 1), F32([3f], 1)], T("self", "x"), T("min", "y"), T("max", "z")));
        AssertClose(F32([0f, 7f, 2f], 3), Op("aten.clamp_min.default", x, T("self", "x"), I("min", 0)));
        AssertClose(F32([-7f, 0f, 0f], 3), Op("aten.clamp_max.default", x, T("self", "x"), I("max", 0)));

        var a = tensor(new long[] { 12, 10 });
        var b = tensor(new long[] { 10, 6 });
        CollectionAssert.AreEqual(new long[] { 8, 2 }, Op("aten.bitwise_and.Tensor", [a, b], selfOther).data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 14, 14 }, Op("aten.bitwise_or.Tensor", [a, b], selfOther).data<long>().ToArray());
        var mask = tensor(new[] { true, false });
        AssertClose(F32([1f, 0f], 2), Op("aten.where.Scalar", mask, T("condition", "x"), D("self", 1), D("other", 0)));
    }

    [TestMethod]
    public void ShapeOverloads_MatchTorchSharp()
    {
        using var scope = NewDisposeScope();
        var x = arange(6, ScalarType.Float32).reshape(2, 3);
        var y = zeros(3, 2);
        AssertClose(x.reshape(3, 2), Op("aten.reshape_as.default", [x, y], T("self", "x"), T("other", "y")));
        AssertClose(cat([x, x], 1), Op("aten.concat.default", [x], Ts("tensors", "x", "x"), I("dim", 1)));
        AssertClose(x, Op("aten.to.device", x, T("self", "x"), new NamedArgument("device", new DeviceArg("cpu", null)), new NamedArgument("dtype", new ScalarTypeArg(7))));
        var image = arange(16, ScalarType.Float32).reshape(1, 4, 2, 2);
        AssertClose(F.pixel_shuffle(image, 2), Op("aten.pixel_shuffle.default", image, T("self", "x"), I("upscale_factor", 2)));
    }

    [TestMethod]
    public void MoreLayers_MatchTorchSharpsFunctionalForms()
    {
        using var scope = NewDisposeScope();
        var volume = Random(1, 2, 4, 4, 4);
        var w3 = Random(3, 2, 3, 3, 3);
        AssertClose(F.conv3d(volume, w3, null, [1, 1, 1], [1, 1, 1], [1, 1, 1], 1), Op("aten.conv3d.default", [volume, w3], T("input", "x"), T("weight", "y"), Is("padding", 1)), 1e-4);
        var signal = Random(1, 2, 5);
        var wt1 = Random(2, 3, 3);
        AssertClose(F.conv_transpose1d(signal, wt1, null, 2, 0, 0, 1, 1), Op("aten.conv_transpose1d.default", [signal, wt1], T("input", "x"), T("weight", "y"), Is("stride", 2)), 1e-5);
        var image = Random(1, 2, 3, 3);
        var wt2 = Random(2, 4, 2, 2);
        AssertClose(F.conv_transpose2d(image, wt2, null, [2, 2], [0, 0], [0, 0], [1, 1], 1), Op("aten.conv_transpose2d.input", [image, wt2], T("input", "x"), T("weight", "y"), Is("stride", 2, 2)), 1e-5);

        var x = Random(4, 3, 2, 2);
        var batchMean = x.mean([0, 2, 3], keepdim: true);
        var batchVar = x.var([0, 2, 3], unbiased: false, keepdim: true);
        var normalized = (x - batchMean) / (batchVar + 1e-5).sqrt();
        var runningMean = zeros(3);
        var runningVar = ones(3);
        var values = new Dictionary<string, object> { ["x"] = x, ["m"] = runningMean, ["v"] = runningVar };
        NamedArgument[] args = [T("input", "x"), new("weight", new NoneArg()), new("bias", new NoneArg()), T("running_mean", "m"), T("running_var", "v"), B("training", true), D("momentum", 0.1), D("eps", 1e-5)];
        AssertClose(normalized, (Tensor)Invoke("aten.native_batch_norm.default", values, 3, args)[0]!, 1e-4);
        AssertClose(normalized, (Tensor)Invoke("aten._native_batch_norm_legit.default", values, 3, args)[0]!, 1e-4);
        AssertClose(zeros(3), runningMean, 0, "batch statistics leave the shared running buffers alone");
    }

    [TestMethod]
    public void ElmanRnnAndUnbatchedLstm_MatchTorchSharpsModules()
    {
        using var scope = NewDisposeScope();
        foreach (var (nonlinearity, target) in new[] { (nn.NonLinearities.Tanh, "aten.rnn_tanh.input"), (nn.NonLinearities.ReLU, "aten.rnn_relu.input") })
        {
            using var rnn = nn.RNN(3, 4, nonLinearity: nonlinearity);
            var x = Random(6, 2, 3);
            var h0 = Random(1, 2, 4) * 0.1;
            var (expected, hn) = rnn.forward(x, h0);
            var values = new Dictionary<string, object> { ["x"] = x, ["h"] = h0 };
            var names = Weights(rnn, values, "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0");
            var outputs = Invoke(target, values, 2, T("input", "x"), T("hx", "h"), Ts("params", names), B("has_biases", true), I("num_layers", 1),
                D("dropout", 0), B("train", false), B("bidirectional", false), B("batch_first", false));
            AssertClose(expected, (Tensor)outputs[0]!, 1e-5, target);
            AssertClose(hn, (Tensor)outputs[1]!, 1e-5, target);
        }

        using var lstm = nn.LSTM(3, 4, bias: false);
        var sequence = Random(5, 3);
        var h = zeros(1, 4);
        var c = zeros(1, 4);
        var (output, _, _) = lstm.forward(sequence.unsqueeze(1), (h.unsqueeze(1), c.unsqueeze(1)));
        var lstmValues = new Dictionary<string, object> { ["x"] = sequence, ["h"] = h, ["c"] = c };
        var lstmNames = Weights(lstm, lstmValues, "weight_ih_l0", "weight_hh_l0");
        var lstmOutputs = Invoke("aten.lstm.input", lstmValues, 3, T("input", "x"), Ts("hx", "h", "c"), Ts("params", lstmNames), B("has_biases", false), I("num_layers", 1),
            D("dropout", 0), B("train", false), B("bidirectional", false), B("batch_first", false));
        AssertClose(output.squeeze(1), (Tensor)lstmOutputs[0]!, 1e-5, "unbatched lstm without biases");
    }

    private static string[] Weights(nn.Module module, Dictionary<string, object> values, params string[] names)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        foreach (var name in names)
        {
            values[name] = parameters[name].detach();
        }

        return names;
    }
}
