using ModelBuild.Engine.Graph;
using static ModelBuild.Runtime.Torch.Tests.KernelHarness;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

[TestClass]
public sealed class ShapeKernelTests
{
    private static Tensor Grid(params long[] shape) => arange(shape.Aggregate(1L, (a, b) => a * b), ScalarType.Float32).reshape(shape);

    [TestMethod]
    public void Views_ReshapeAndReorderAsPyTorch()
    {
        using var scope = NewDisposeScope();
        var x = Grid(2, 3, 4);
        var self = T("self", "x");
        AssertClose(x.reshape(6, 4), Op("aten.view.default", x, self, new NamedArgument("size", new SymIntsArg([SymInt.Of(6), SymInt.Of(-1)]))));
        AssertClose(x.reshape(4, 6), Op("aten.reshape.default", x, self, Is("shape", 4, 6)));
        AssertClose(x.reshape(2, 12), Op("aten._unsafe_view.default", x, self, Is("size", 2, 12)));
        AssertClose(x.permute(2, 0, 1), Op("aten.permute.default", x, self, Is("dims", 2, 0, 1)));
        AssertClose(x.transpose(0, 2), Op("aten.transpose.int", x, self, I("dim0", 0), I("dim1", -1)));
        AssertClose(x.unsqueeze(1), Op("aten.unsqueeze.default", x, self, I("dim", 1)));
        AssertClose(x.reshape(24), Op("aten.flatten.using_ints", x, self));
        AssertClose(x.reshape(2, 12), Op("aten.flatten.using_ints", x, self, I("start_dim", 1)));
        AssertClose(x, Op("aten.unflatten.int", x.reshape(2, 12), self, I("dim", 1), Is("sizes", 3, 4)));
        AssertClose(x.reshape(6, 4).t(), Op("aten.t.default", x.reshape(6, 4), self));
        var y = Grid(1, 3, 1);
        AssertClose(y.reshape(3), Op("aten.squeeze.default", y, self));
        AssertClose(y.reshape(3, 1), Op("aten.squeeze.dim", y, self, I("dim", 0)));
        AssertClose(y.reshape(3), Op("aten.squeeze.dims", y, self, Is("dim", 0, -1)));
        AssertClose(y.reshape(1, 3, 1).expand(2, 3, 5), Op("aten.expand.default", y, self, Is("size", 2, -1, 5)));
        AssertClose(y.expand(2, 3, 5), Op("aten.expand_as.default", [y, zeros(2, 3, 5)], self, T("other", "y")));
        AssertClose(x.reshape(4, 6), Op("aten.view_as.default", [x, zeros(4, 6)], self, T("other", "y")));
    }

    [TestMethod]
    public void JoinAndSplit_MatchTorchSharp()
    {
        using var scope = NewDisposeScope();
        var x = Grid(2, 6);
        var y = Grid(2, 6) + 100;
        Tensor[] xy = [x, y];
        AssertClose(cat([x, y], 0), Op("aten.cat.default", xy, Ts("tensors", "x", "y")));
        AssertClose(cat([x, y], 1), Op("aten.cat.default", xy, Ts("tensors", "x", "y"), I("dim", -1)));
        AssertClose(stack([x, y], 1), Op("aten.stack.default", xy, Ts("tensors", "x", "y"), I("dim", 1)));

        var self = T("self", "x");
        AssertParts(x.split(4, 1), Invoke("aten.split.Tensor", Values(x), 1, self, I("split_size", 4), I("dim", 1)));
        AssertParts(x.split([1, 5], 1), Invoke("aten.split_with_sizes.default", Values(x), 1, self, Is("split_sizes", 1, 5), I("dim", -1)));
        AssertParts(x.chunk(3, 1), Invoke("aten.chunk.default", Values(x), 1, self, I("chunks", 3), I("dim", 1)));
        AssertParts(x.unbind(0), Invoke("aten.unbind.int", Values(x), 1, self));
        AssertParts(x.split(1, 0), Invoke("aten.split.Tensor", Values(x), 1, self, I("split_size", 1)));
    }

    [TestMethod]
    public void Selection_IndexesAsPyTorch()
    {
        using var scope = NewDisposeScope();
        var x = Grid(3, 5);
        var self = T("self", "x");
        AssertClose(F32([5, 6, 7, 8, 9], 5), Op("aten.select.int", x, self, I("dim", 0), I("index", 1)));
        AssertClose(F32([4, 9, 14], 3), Op("aten.select.int", x, self, I("dim", 1), I("index", -1)));
        AssertClose(x.slice(1, 1, 5, 1), Op("aten.slice.Tensor", x, self, I("dim", 1), I("start", 1), I("end", long.MaxValue)));
        AssertClose(x.slice(1, 3, 5, 1), Op("aten.slice.Tensor", x, self, I("dim", 1), I("start", -2)));
        AssertClose(x.slice(0, 0, 3, 2), Op("aten.slice.Tensor", x, self, I("step", 2)));
        AssertClose(x.slice(1, 0, 4, 1), Op("aten.slice.Tensor", x, self, I("dim", 1), I("end", -1)));
        AssertClose(x.narrow(1, 2, 2), Op("aten.narrow.default", x, self, I("dim", 1), I("start", 2), I("length", 2)));
        AssertClose(x.flip(0, 1), Op("aten.flip.default", x, self, Is("dims", 0, -1)));
        AssertClose(roll(x, [1], [1]), Op("aten.roll.default", x, self, Is("shifts", 1), Is("dims", 1)));
        AssertClose(x.tril(), Op("aten.tril.default", x, self));
        AssertClose(x.triu(1), Op("aten.triu.default", x, self, I("diagonal", 1)));
        AssertClose(x.repeat(2, 1), Op("aten.repeat.default", x, self, Is("repeats", 2, 1)));

        var index = tensor(new long[] { 2, 0 });
        AssertClose(F32([10, 11, 12, 13, 14, 0, 1, 2, 3, 4], 2, 5), Op("aten.index_select.default", [x, index], self, I("dim", 0), T("index", "y")));
        AssertClose(F32([2, 0, 7, 5, 12, 10], 3, 2), Op("aten.index.Tensor", [x, index], self, new NamedArgument("indices", new OptionalTensorsArg([null, "y"]))));
        AssertClose(F32([10, 11, 12, 13, 14, 0, 1, 2, 3, 4], 2, 5), Op("aten.index.Tensor", [x, index], self, new NamedArgument("indices", new OptionalTensorsArg(["y"]))));
        var gatherIndex = tensor(new long[] { 4, 0, 1 }).reshape(3, 1);
        AssertClose(F32([4, 5, 11], 3, 1), Op("aten.gather.default", [x, gatherIndex], self, I("dim", 1), T("index", "y")));
        AssertClose(F32([0, 1, 2, 9, 9, 9], 2, 3), Op("aten.constant_pad_nd.default", Grid(1, 3), self, Is("pad", 0, 0, 1, 0), D("value", 9)).flip(0));
    }

    [TestMethod]
    public void Embedding_PicksRowsForEveryIndexShape()
    {
        using var scope = NewDisposeScope();
        var table = Grid(5, 3);
        var ids = tensor(new long[] { 4, 0, 2, 2 }).reshape(2, 2);

        var rows = Op("aten.embedding.default", [table, ids], T("weight", "x"), T("indices", "y"));

        AssertClose(F32([12, 13, 14, 0, 1, 2, 6, 7, 8, 6, 7, 8], 2, 2, 3), rows);
    }

    [TestMethod]
    public void CopiesAndCasts_HonourDtypeAndReturnNewTensors()
    {
        using var scope = NewDisposeScope();
        var x = F32([1.5f, -2.5f], 2);
        var self = T("self", "x");
        var int64 = new ScalarTypeArg(5);
        Assert.AreEqual(ScalarType.Int64, Op("aten._to_copy.default", x, self, Kw("dtype", int64)).dtype);
        Assert.AreEqual(ScalarType.Float64, Op("aten.to.dtype", x, self, new NamedArgument("dtype", new ScalarTypeArg(8))).dtype);
        Assert.AreEqual(ScalarType.Float16, Op("aten.to.dtype_layout", x, self, Kw("dtype", new ScalarTypeArg(6))).dtype);
        Assert.AreEqual(ScalarType.Int64, Op("aten.type_as.default", [x, tensor(new long[] { 1 })], self, T("other", "y")).dtype);

        foreach (var target in new[] { "aten.clone.default", "aten.contiguous.default", "aten.alias.default", "aten.detach.default", "aten.lift_fresh_copy.default" })
        {
            var copy = Op(target, x, self);
            Assert.AreNotSame(x, copy, target);
            AssertClose(x, copy, 0, target);
        }

        var same = Op("aten.to.dtype", x, self, new NamedArgument("dtype", new ScalarTypeArg(7)));
        Assert.AreNotSame(x, same, "a no-op cast still returns a handle the caller may dispose");
        same.Dispose();
        Assert.IsFalse(x.IsInvalid);
    }

    private static void AssertParts(Tensor[] expected, object?[] actual)
    {
        var parts = (Tensor[])actual[0]!;
        Assert.HasCount(expected.Length, parts);
        for (var i = 0; i < parts.Length; i++)
        {
            AssertClose(expected[i], parts[i], 0, $"part {i}");
        }
    }
}
