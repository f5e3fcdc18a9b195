using ModelBuild.Engine.Graph;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class ElementwiseKernelTests
{
    [TestMethod]
    public void UnaryOps_MatchHandValues()
    {
        using var scope = NewDisposeScope();
        var x = F32([-2f, -0.5f, 0f, 1f, 3f], 5);
        float[] v = [-2f, -0.5f, 0f, 1f, 3f];
        (string Target, Func<float, double> Expected)[] cases =
        [
            ("aten.relu.default", a => Math.Max(a, 0)),
            ("aten.sigmoid.default", a => 1 / (1 + Math.Exp(-a))),
            ("aten.tanh.default", a => Math.Tanh(a)),
            ("aten.exp.default", a => Math.Exp(a)),
            ("aten.log1p.default", a => a > -1 ? Math.Log(1 + a) : double.NaN),
            ("aten.neg.default", a => -a),
            ("aten.abs.default", a => Math.Abs(a)),
            ("aten.silu.default", a => a / (1 + Math.Exp(-a))),
            ("aten.hardswish.default", a => a * Math.Clamp(a + 3, 0, 6) / 6),
            ("aten.hardsigmoid.default", a => Math.Clamp(a + 3, 0, 6) / 6),
            ("aten.relu6.default", a => Math.Clamp(a, 0, 6)),
            ("aten.sin.default", a => Math.Sin(a)),
            ("aten.cos.default", a => Math.Cos(a)),
            ("aten.floor.default", a => Math.Floor(a)),
            ("aten.ceil.default", a => Math.Ceiling(a)),
            ("aten.sign.default", a => Math.Sign(a)),
            ("aten.erf.default", a => Erf(a)),
            ("aten.gelu.default", a => 0.5 * a * (1 + Erf(a / Math.Sqrt(2)))),
            ("aten.leaky_relu.default", a => a > 0 ? a : 0.01 * a),
            ("aten.elu.default", a => a > 0 ? a : Math.Exp(a) - 1),
            ("aten.hardtanh.default", a => Math.Clamp(a, -1, 1)),
            ("aten.softplus.default", a => Math.Log(1 + Math.Exp(a))),
            ("aten.mish.default", a => a * Math.Tanh(Math.Log(1 + Math.Exp(a)))),
        ];
        foreach (var (target, expected) in cases)
        {
            var actual = Op(target, x, T("self", "x"));
            AssertClose(F32([.. v.Select(a => (float)expected(a))], 5), actual, 1e-5, target);
        }

        var positive = F32([0.25f, 1f, 4f], 3);
        AssertClose(F32([0.5f, 1f, 2f], 3), Op("aten.sqrt.default", positive, T("self", "x")));
        AssertClose(F32([2f, 1f, 0.5f], 3), Op("aten.rsqrt.default", positive, T("self", "x")));
        AssertClose(F32([4f, 1f, 0.25f], 3), Op("aten.reciprocal.default", positive, T("self", "x")));
        AssertClose(F32([MathF.Log(0.25f), 0f, MathF.Log(4f)], 3), Op("aten.log.default", positive, T("self", "x")));
    }

    [TestMethod]
    public void GeluTanh_UsesTheTanhApproximation()
    {
        using var scope = NewDisposeScope();
        var x = F32([-1f, 0.5f, 2f], 3);
        var expected = F32([.. new[] { -1f, 0.5f, 2f }.Select(a =>
            (float)(0.5 * a * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (a + (0.044715 * a * a * a))))))], 3);

        AssertClose(expected, Op("aten.gelu.default", x, T("self", "x"), Kw("approximate", new StringArg("tanh"))));
    }

    [TestMethod]
    public void ArgumentsGiven_OverrideTheSchemaDefaults()
    {
        using var scope = NewDisposeScope();
        var x = F32([-2f, 2f], 2);
        AssertClose(F32([-0.4f, 2f], 2), Op("aten.leaky_relu.default", x, T("self", "x"), D("negative_slope", 0.2)));
        AssertClose(F32([-0.5f, 0.5f], 2), Op("aten.hardtanh.default", x, T("self", "x"), D("min_val", -0.5), D("max_val", 0.5)));
        AssertClose(F32([-1f, 1f], 2), Op("aten.clamp.default", x, T("self", "x"), I("min", -1), I("max", 1)));
        AssertClose(F32([-2f, 1f], 2), Op("aten.clamp.default", x, T("self", "x"), I("max", 1)));
        AssertClose(F32([4f, 4f], 2), Op("aten.pow.Tensor_Scalar", x, T("self", "x"), I("exponent", 2)));
    }

    [TestMethod]
    public void Arithmetic_TakesTensorsOrScalarsWithAlpha()
    {
        using var scope = NewDisposeScope();
        var x = F32([1f, 2f, 3f], 3);
        var y = F32([10f, 20f, 30f], 3);
        Tensor[] xy = [x, y];
        AssertClose(F32([11f, 22f, 33f], 3), Op("aten.add.Tensor", xy, T("self", "x"), T("other", "y")));
        AssertClose(F32([21f, 42f, 63f], 3), Op("aten.add.Tensor", xy, T("self", "x"), T("other", "y"), Kw("alpha", new IntArg(2))));
        AssertClose(F32([-19f, -38f, -57f], 3), Op("aten.sub.Tensor", xy, T("self", "x"), T("other", "y"), Kw("alpha", new IntArg(2))));
        AssertClose(F32([-1f, 0f, 1f], 3), Op("aten.sub.Scalar", x, T("self", "x"), I("other", 2)));
        AssertClose(F32([-3f, -2f, -1f], 3), Op("aten.sub.Scalar", x, T("self", "x"), I("other", 2), I("alpha", 2)));
        AssertClose(F32([3.5f, 4.5f, 5.5f], 3), Op("aten.add.Scalar", x, T("self", "x"), D("other", 2.5)));
        AssertClose(F32([9f, 18f, 27f], 3), Op("aten.rsub.Tensor", xy, T("self", "x"), T("other", "y")));
        AssertClose(F32([3f, 1f, -1f], 3), Op("aten.rsub.Scalar", x, T("self", "x"), I("other", 5), I("alpha", 2)));
        AssertClose(F32([10f, 40f, 90f], 3), Op("aten.mul.Tensor", xy, T("self", "x"), T("other", "y")));
        AssertClose(F32([2f, 4f, 6f], 3), Op("aten.mul.Tensor", x, T("self", "x"), I("other", 2)));
        AssertClose(F32([0.5f, 1f, 1.5f], 3), Op("aten.mul.Scalar", x, T("self", "x"), D("other", 0.5)));
        AssertClose(F32([10f, 10f, 10f], 3), Op("aten.div.Tensor", xy, T("self", "y"), T("other", "x")));
        AssertClose(F32([0.5f, 1f, 1.5f], 3), Op("aten.div.Scalar", x, T("self", "x"), I("other", 2)));
        AssertClose(F32([10f, 20f, 30f], 3), Op("aten.maximum.default", [x, y], T("self", "x"), T("other", "y")));
        AssertClose(F32([1f, 2f, 3f], 3), Op("aten.minimum.default", [x, y], T("self", "x"), T("other", "y")));
    }

    [TestMethod]
    public void IntegerTimesFloatScalar_PromotesToFloatAsPyTorchDoes()
    {
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 1, 2 });

        var scaled = Op("aten.mul.Tensor", ids, T("self", "x"), D("other", 0.5));

        AssertClose(F32([0.5f, 1f], 2), scaled);
        Assert.AreEqual(ScalarType.Int64, Op("aten.mul.Tensor", ids, T("self", "x"), I("other", 3)).dtype);
    }

    [TestMethod]
    [DataRow(null, new float[] { -3.5f, 3.5f })]
    [DataRow("trunc", new float[] { -3f, 3f })]
    [DataRow("floor", new float[] { -4f, 3f })]
    public void Divide_HonoursTheRoundingMode(string? mode, float[] expected)
    {
        using var scope = NewDisposeScope();
        var x = F32([-7f, 7f], 2);
        var args = new List<NamedArgument> { T("self", "x"), I("other", 2) };
        if (mode is not null)
        {
            args.Add(Kw("rounding_mode", new StringArg(mode)));
        }

        AssertClose(F32(expected, 2), Op(mode is null ? "aten.div.Scalar" : "aten.div.Scalar_mode", x, [.. args]));
        AssertClose(F32(expected, 2), Op(mode is null ? "aten.div.Tensor" : "aten.div.Tensor_mode", x, [.. args]));
    }

    [TestMethod]
    public void Comparisons_ReturnBoolMasks()
    {
        using var scope = NewDisposeScope();
        var x = F32([1f, 2f, 3f], 3);
        var y = F32([3f, 2f, 1f], 3);
        (string Op, bool[] Scalar2, bool[] VsY)[] cases =
        [
            ("eq", [false, true, false], [false, true, false]),
            ("ne", [true, false, true], [true, false, true]),
            ("lt", [true, false, false], [true, false, false]),
            ("le", [true, true, false], [true, true, false]),
            ("gt", [false, false, true], [false, false, true]),
            ("ge", [false, true, true], [false, true, true]),
        ];
        foreach (var (op, scalar2, vsY) in cases)
        {
            CollectionAssert.AreEqual(scalar2, Op($"aten.{op}.Scalar", x, T("self", "x"), I("other", 2)).data<bool>().ToArray(), op);
            CollectionAssert.AreEqual(vsY, Op($"aten.{op}.Tensor", [x, y], T("self", "x"), T("other", "y")).data<bool>().ToArray(), op);
        }
    }

    [TestMethod]
    public void LogicAndSelection_MatchHandValues()
    {
        using var scope = NewDisposeScope();
        var p = tensor(new[] { true, true, false, false });
        var q = tensor(new[] { true, false, true, false });
        Tensor[] pq = [p, q];
        CollectionAssert.AreEqual(new[] { true, false, false, false }, Op("aten.logical_and.default", pq, T("self", "x"), T("other", "y")).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { true, true, true, false }, Op("aten.logical_or.default", pq, T("self", "x"), T("other", "y")).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { false, true, true, false }, Op("aten.logical_xor.default", pq, T("self", "x"), T("other", "y")).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { false, false, true, true }, Op("aten.logical_not.default", p, T("self", "x")).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { false, false, true, true }, Op("aten.bitwise_not.default", p, T("self", "x")).data<bool>().ToArray());

        var a = F32([1f, 2f, 3f, 4f], 4);
        var b = F32([-1f, -2f, -3f, -4f], 4);
        Tensor[] pab = [p, a, b];
        AssertClose(F32([1f, 2f, -3f, -4f], 4), Op("aten.where.self", pab, T("condition", "x"), T("self", "y"), T("other", "z")));
        AssertClose(F32([1f, 2f, 0f, 0f], 4), Op("aten.where.ScalarOther", pab, T("condition", "x"), T("self", "y"), I("other", 0)));
        AssertClose(F32([9f, 9f, -3f, -4f], 4), Op("aten.where.ScalarSelf", pab, T("condition", "x"), D("self", 9), T("other", "z")));
        AssertClose(F32([-1e9f, -1e9f, 3f, 4f], 4), Op("aten.masked_fill.Scalar", [a, p], T("self", "x"), T("mask", "y"), D("value", -1e9)));
        using var fill = tensor(7.0);
        AssertClose(F32([7f, 7f, 3f, 4f], 4), Op("aten.masked_fill.Tensor", [a, p, fill], T("self", "x"), T("mask", "y"), T("value", "z")));
    }

    [TestMethod]
    public void DropoutInEval_IsTheIdentity()
    {
        using var scope = NewDisposeScope();
        var x = Random(4, 5);

        AssertClose(x, Op("aten.dropout.default", x, T("input", "x"), D("p", 0.5), B("train", false)));
        var both = Invoke("aten.native_dropout.default", Values(x), 2, T("input", "x"), D("p", 0.5), B("train", false));
        AssertClose(x, (Tensor)both[0]!);
        Assert.IsTrue(((Tensor)both[1]!).all().item<bool>());
    }

    private static double Erf(double x)
    {
        // Abramowitz-Stegun 7.1.26 is too coarse for 1e-5; integrate the series instead.
        double sum = 0, term = x;
        for (var n = 0; n < 60; n++)
        {
            sum += term / ((2 * n) + 1);
            term *= -x * x / (n + 1);
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
