using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class ReductionAndFactoryKernelTests
{
    [TestMethod]
    public void Reductions_DefaultToEveryDimAndNoKeepdim()
    {
        using var scope = NewDisposeScope();
        var x = F32([1, 2, 3, 4, 5, 6], 2, 3);
        var self = T("self", "x");
        AssertClose(F32([6, 15], 2), Op("aten.sum.dim_IntList", x, self, Is("dim", 1)));
        AssertClose(F32([21], []), Op("aten.sum.dim_IntList", x, self, new NamedArgument("dim", new NoneArg())));
        AssertClose(F32([21], []), Op("aten.sum.default", x, self));
        AssertClose(F32([2, 5], 2, 1), Op("aten.mean.dim", x, self, Is("dim", -1), B("keepdim", true)));
        AssertClose(F32([3.5f], []), Op("aten.mean.default", x, self));
        AssertClose(F32([720], []), Op("aten.prod.default", x, self));
        AssertClose(F32([6, 120], 2), Op("aten.prod.dim_int", x, self, I("dim", 1)));
        AssertClose(F32([4, 5, 6], 3), Op("aten.amax.default", x, self, Is("dim", 0)));
        AssertClose(F32([1], []), Op("aten.amin.default", x, self));
        AssertClose(F32([6], []), Op("aten.max.default", x, self));
        AssertClose(F32([1, 3, 6, 4, 9, 15], 2, 3), Op("aten.cumsum.default", x, self, I("dim", 1)));
        CollectionAssert.AreEqual(new long[] { 5 }, Op("aten.argmax.default", x, self).data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 0 }, Op("aten.argmin.default", x, self, I("dim", 1)).data<long>().ToArray());

        var max = Invoke("aten.max.dim", Values(x), 2, self, I("dim", 1));
        AssertClose(F32([3, 6], 2), (Tensor)max[0]!);
        CollectionAssert.AreEqual(new long[] { 2, 2 }, ((Tensor)max[1]!).data<long>().ToArray());
        var min = Invoke("aten.min.dim", Values(x), 2, self, I("dim", 0), B("keepdim", true));
        AssertClose(F32([1, 2, 3], 1, 3), (Tensor)min[0]!);

        var mask = tensor(new[] { false, true, false, false }).reshape(2, 2);
        CollectionAssert.AreEqual(new[] { true, false }, Op("aten.any.dim", mask, self, I("dim", 1)).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { true }, Op("aten.any.dims", mask, self, Is("dim", 0, 1)).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { true }, Op("aten.any.default", mask, self).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { false, false }, Op("aten.all.dim", mask, self, I("dim", 0)).data<bool>().ToArray());
        CollectionAssert.AreEqual(new[] { false }, Op("aten.all.default", mask, self).data<bool>().ToArray());
        AssertClose(x.logsumexp(1), Op("aten.logsumexp.default", x, self, Is("dim", 1)));
    }

    [TestMethod]
    public void Variance_AppliesTheCorrection()
    {
        using var scope = NewDisposeScope();
        var x = F32([1, 2, 3, 4], 4);
        var self = T("self", "x");
        // mean 2.5, squared deviations sum to 5
        AssertClose(F32([5f / 3], []), Op("aten.var.correction", x, self));
        AssertClose(F32([5f / 4], []), Op("aten.var.correction", x, self, Kw("correction", new IntArg(0))));
        AssertClose(F32([5f / 2], []), Op("aten.var.correction", x, self, Kw("correction", new IntArg(2))));
        AssertClose(F32([MathF.Sqrt(5f / 4)], []), Op("aten.std.correction", x, self, Kw("correction", new IntArg(0))));
        AssertClose(F32([5f / 3], []), Op("aten.var.dim", x, self, Is("dim", 0)));
        AssertClose(F32([MathF.Sqrt(5f / 4)], []), Op("aten.std.dim", x, self, Is("dim", 0), B("unbiased", false)));
        AssertClose(F32([5f / 3], []), Op("aten.var.default", x, self));
        AssertClose(F32([MathF.Sqrt(5f / 3)], []), Op("aten.std.default", x, self));
    }

    [TestMethod]
    public void SoftmaxAndRanking_MatchHandValues()
    {
        using var scope = NewDisposeScope();
        var x = F32([1, 2, 3, 3, 1, 2], 2, 3);
        var self = T("self", "x");
        var e = new[] { MathF.Exp(1), MathF.Exp(2), MathF.Exp(3) };
        var s = e.Sum();
        var expected = F32([e[0] / s, e[1] / s, e[2] / s, e[2] / s, e[0] / s, e[1] / s], 2, 3);
        AssertClose(expected, Op("aten.softmax.int", x, self, I("dim", -1)));
        AssertClose(expected, Op("aten._softmax.default", x, self, I("dim", 1), B("half_to_float", false)));
        AssertClose(expected.log(), Op("aten.log_softmax.int", x, self, I("dim", 1)));
        AssertClose(expected.log(), Op("aten._log_softmax.default", x, self, I("dim", 1), B("half_to_float", false)));

        var top = Invoke("aten.topk.default", Values(x), 2, self, I("k", 2));
        AssertClose(F32([3, 2, 3, 2], 2, 2), (Tensor)top[0]!);
        CollectionAssert.AreEqual(new long[] { 2, 1, 0, 2 }, ((Tensor)top[1]!).data<long>().ToArray());
        var bottom = Invoke("aten.topk.default", Values(x), 2, self, I("k", 1), I("dim", 0), B("largest", false));
        AssertClose(F32([1, 1, 2], 1, 3), (Tensor)bottom[0]!);
        var sorted = Invoke("aten.sort.default", Values(x), 2, self, B("descending", true));
        AssertClose(F32([3, 2, 1, 3, 2, 1], 2, 3), (Tensor)sorted[0]!);
        var stable = Invoke("aten.sort.stable", Values(x), 2, self, Kw("stable", new BoolArg(true)));
        AssertClose(F32([1, 2, 3, 1, 2, 3], 2, 3), (Tensor)stable[0]!);
    }

    [TestMethod]
    public void Factories_InferDtypeAsATenDoes()
    {
        using var scope = NewDisposeScope();
        var none = new Dictionary<string, object>();
        Tensor Make(string target, params NamedArgument[] args) => (Tensor)Invoke(target, none, 1, args)[0]!;

        var ints = Make("aten.arange.default", I("end", 4));
        Assert.AreEqual(ScalarType.Int64, ints.dtype);
        CollectionAssert.AreEqual(new long[] { 0, 1, 2, 3 }, ints.data<long>().ToArray());
        AssertClose(F32([0, 0.5f, 1, 1.5f], 4), Make("aten.arange.start_step", I("start", 0), I("end", 2), D("step", 0.5)));
        CollectionAssert.AreEqual(new long[] { 2, 3, 4 }, Make("aten.arange.start", I("start", 2), I("end", 5)).data<long>().ToArray());
        Assert.AreEqual(ScalarType.Float32, Make("aten.arange.default", I("end", 3), Kw("dtype", new ScalarTypeArg(7))).dtype);

        Assert.AreEqual(ScalarType.Bool, Make("aten.full.default", Is("size", 2, 2), B("fill_value", true)).dtype);
        Assert.AreEqual(ScalarType.Int64, Make("aten.full.default", Is("size", 2), I("fill_value", 3)).dtype);
        AssertClose(F32([1.5f, 1.5f], 2), Make("aten.full.default", Is("size", 2), D("fill_value", 1.5)));
        var scalar = Make("aten.scalar_tensor.default", D("s", double.NegativeInfinity));
        Assert.AreEqual(ScalarType.Float32, scalar.dtype);
        Assert.AreEqual(0L, scalar.dim());
        Assert.AreEqual(ScalarType.Float32, Make("aten.scalar_tensor.default", I("s", 1)).dtype, "scalar_tensor defaults to the default float");
        AssertClose(zeros(2, 3), Make("aten.zeros.default", Is("size", 2, 3)));
        AssertClose(ones(2, 3), Make("aten.ones.default", Is("size", 2, 3)));
        Assert.AreEqual(ScalarType.Int64, Make("aten.empty.memory_format", Is("size", 2), Kw("dtype", new ScalarTypeArg(5))).dtype);

        var x = tensor(new long[] { 1, 2, 3 });
        Tensor Like(string target, params NamedArgument[] args) => Op(target, x, [T("self", "x"), .. args]);
        var likeFull = Like("aten.full_like.default", I("fill_value", 0));
        Assert.AreEqual(ScalarType.Int64, likeFull.dtype);
        Assert.AreEqual(ScalarType.Float32, Like("aten.zeros_like.default", Kw("dtype", new ScalarTypeArg(7))).dtype);
        CollectionAssert.AreEqual(new long[] { 1, 1, 1 }, Like("aten.ones_like.default").data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 3 }, Like("aten.empty_like.default").shape);
        CollectionAssert.AreEqual(new long[] { 7, 7 }, Like("aten.new_full.default", Is("size", 2), I("fill_value", 7)).data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 0 }, Like("aten.new_zeros.default", Is("size", 2)).data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 1 }, Like("aten.new_ones.default", Is("size", 1)).data<long>().ToArray());
        CollectionAssert.AreEqual(new long[] { 4 }, Like("aten.new_empty.default", Is("size", 4)).shape);
    }

    [TestMethod]
    public void SymbolicInts_FollowPythonArithmetic()
    {
        var x = zeros(3, 8);
        var values = new Dictionary<string, object> { ["x"] = x, ["s0"] = 7L };
        long Sym(string target, params NamedArgument[] args) =>
            (long)OpKernels.Invoke(new GraphNode(target, args, [new SymIntArg(SymInt.Ref("r"))]), n => values[n])[0]!;
        var s0 = new NamedArgument("a", new SymIntArg(SymInt.Ref("s0")));

        Assert.AreEqual(8L, Sym("torch.ops.aten.sym_size.int", T("self", "x"), I("dim", 1)));
        Assert.AreEqual(3L, Sym("torch.ops.aten.sym_size.int", T("self", "x"), I("dim", -2)));
        Assert.AreEqual(24L, Sym("torch.ops.aten.sym_numel.default", T("self", "x")));
        Assert.AreEqual(14L, Sym("_operator.mul", s0, I("b", 2)));
        Assert.AreEqual(9L, Sym("_operator.add", s0, I("b", 2)));
        Assert.AreEqual(5L, Sym("_operator.sub", s0, I("b", 2)));
        Assert.AreEqual(-7L, Sym("_operator.neg", s0));
        Assert.AreEqual(2L, Sym("_operator.floordiv", s0, I("b", 3)));
        Assert.AreEqual(-3L, Sym("_operator.floordiv", s0, I("b", -3)), "Python floors toward negative infinity");
        Assert.AreEqual(1L, Sym("_operator.mod", s0, I("b", 3)));
        Assert.AreEqual(-2L, Sym("_operator.mod", s0, I("b", -3)), "Python's remainder takes the divisor's sign");
        x.Dispose();
    }
}
