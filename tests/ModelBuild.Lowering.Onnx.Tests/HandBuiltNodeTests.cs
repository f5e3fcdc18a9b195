using ModelBuild.Engine.Graph;
using static ModelBuild.Lowering.Onnx.Tests.NodeProgram;
using static TorchSharp.torch;

namespace ModelBuild.Lowering.Onnx.Tests;

/// <summary>
/// The rules that PyTorch's OpInfo programs and the fixtures do not reach (overloads torch.export writes only for some
/// code, sym-int arithmetic of dynamic shapes, training-IR layers), each in a graph written by hand and checked against
/// TorchSharp's kernel, or against PyTorch's formula for the operators that have no kernel.
/// </summary>
[TestClass]
public sealed class HandBuiltNodeTests
{
    public static IEnumerable<object[]> Programs => All().Select(p => new object[] { p.Name });

    [TestMethod]
    [DynamicData(nameof(Programs))]
    public void OnnxRuntime_AgreesWithTheReference(string program)
    {
        Assert.IsNull(All().Single(p => p.Name == program).Difference());
    }

    [TestMethod]
    public void EveryRule_IsExercisedByAnOpInfoProgramAFixtureOrAHandBuiltGraph()
    {
        var exercised = OpInfoLoweringTests.Exercised();
        exercised.UnionWith(All().SelectMany(p => p.Targets));

        var unexercised = OnnxLowering.Targets.Where(t => !exercised.Contains(t)).Order(StringComparer.Ordinal).ToList();

        Assert.IsEmpty(unexercised, $"rules nothing exercises:\n{string.Join("\n", unexercised)}");
    }

    private static Tensor X(params long[] shape) => randn(shape, generator: new TorchSharp.torch.Generator(7));

    private static Tensor Ints(long high, params long[] shape) => randint(0, high, shape, ScalarType.Int64, generator: new TorchSharp.torch.Generator(11));

    private static Tensor Bools(params long[] shape) => randint(0, 2, shape, ScalarType.Int64, generator: new TorchSharp.torch.Generator(13)).to(ScalarType.Bool);

    private static IntArg I(long v) => new(v);

    private static FloatArg F(double v) => new(v);

    private static IntsArg Is(params long[] v) => new(v);

    private static NodeProgram Unary(string target, params (string, Argument)[] more) =>
        new NodeProgram(target).In("x", X(2, 3, 4)).Node(target, "y", [("self", T("x")), .. more]).Out("y");

    private static NodeProgram Binary(string target, Tensor self, Argument other, Tensor? otherTensor = null)
    {
        var program = new NodeProgram($"{target} {other.GetType().Name}").In("x", self);
        if (otherTensor is not null)
        {
            program.In("o", otherTensor);
        }
        return program.Node(target, "y", ("self", T("x")), ("other", other)).Out("y");
    }

    private static Func<Func<string, object>, object?[]> Formula(Func<Func<string, Tensor>, Tensor> f) => v => [f(n => (Tensor)v(n))];

    private static IEnumerable<NodeProgram> All()
    {
        foreach (var (op, python) in new[] { ("and", "__and__"), ("or", "__or__"), ("xor", "__xor__") })
        {
            // TorchSharp has kernels for Python's operators; bitwise_* is the same operation.
            Func<Tensor, Tensor, Tensor> f = op switch { "and" => (a, b) => a.bitwise_and(b), "or" => (a, b) => a.bitwise_or(b), _ => (a, b) => a.bitwise_xor(b) };
            yield return Binary($"aten.{python}.Scalar", Ints(16, 3, 4), I(6));
            yield return Binary($"aten.{python}.Tensor", Bools(3, 4), T("o"), Bools(3, 4));
            yield return Binary($"aten.bitwise_{op}.Scalar", Ints(16, 3, 4), I(6)).With(Formula(v => f(v("x"), tensor(6L))));
            yield return Binary($"aten.bitwise_{op}.Tensor", Bools(3, 4), T("o"), Bools(3, 4)).With(Formula(v => f(v("x"), v("o"))));
        }
        yield return Unary("aten.mT.default").With(Formula(v => v("x").transpose(-1, -2)));
        yield return Unary("aten.clamp_max.default", ("max", F(0.5)));
        yield return Unary("aten.clamp_min.default", ("min", F(-0.5)));
        yield return Unary("aten.div.Scalar_mode", ("other", F(0.7)), ("rounding_mode", new StringArg("floor")));
        yield return Binary("aten.floor_divide.default", X(3, 4), T("o"), X(3, 4) + 3);
        yield return Unary("aten.hardswish.default");
        yield return Unary("aten.rsub.Scalar", ("other", F(3)), ("alpha", I(2)));
        yield return Unary("aten.sub.Scalar", ("other", F(1.5)));
        yield return Unary("aten.softplus.default", ("beta", F(2)), ("threshold", F(1)));
        yield return Binary("aten.multiply.Tensor", X(3, 4), T("o"), X(4)).With(Formula(v => v("x") * v("o")));
        yield return new NodeProgram("pow.Scalar").In("x", X(3, 4)).Node("aten.pow.Scalar", [T("y")], Formula(v => full_like(v("x"), 2.5).pow(v("x"))), ("self", F(2.5)), ("exponent", T("x"))).Out("y");
        yield return new NodeProgram("where.Scalar").In("c", Bools(3, 4)).Node("aten.where.Scalar", "y", ("condition", T("c")), ("self", F(1)), ("other", F(0.25))).Out("y");
        yield return new NodeProgram("where.ScalarOther").In("c", Bools(3, 4)).In("x", X(3, 4)).Node("aten.where.ScalarOther", "y", ("condition", T("c")), ("self", T("x")), ("other", F(0.5))).Out("y");
        yield return new NodeProgram("where.ScalarSelf").In("c", Bools(3, 4)).In("x", X(3, 4)).Node("aten.where.ScalarSelf", "y", ("condition", T("c")), ("self", F(0.5)), ("other", T("x"))).Out("y");
        yield return new NodeProgram("native_dropout").In("x", X(3, 4))
            .Node("aten.native_dropout.default", [T("y"), T("mask")], null, ("input", T("x")), ("p", F(0.5)), ("train", new BoolArg(false))).Out("y", "mask");

        yield return Unary("aten._unsafe_view.default", ("size", Is(6, 4)));
        yield return new NodeProgram("concat").In("x", X(2, 3)).In("o", X(2, 5)).Node("aten.concat.default", "y", ("tensors", new TensorsArg(["x", "o"])), ("dim", I(1))).Out("y");
        yield return new NodeProgram("stack").In("x", X(2, 3)).In("o", X(2, 3)).Node("aten.stack.default", "y", ("tensors", new TensorsArg(["x", "o"])), ("dim", I(1))).Out("y");
        yield return Unary("aten.detach.default");
        yield return new NodeProgram("expand_as").In("x", X(3, 1)).In("o", X(3, 4)).Node("aten.expand_as.default", "y", ("self", T("x")), ("other", T("o"))).Out("y");
        yield return new NodeProgram("reshape_as").In("x", X(2, 3, 4)).In("o", X(6, 4)).Node("aten.reshape_as.default", "y", ("self", T("x")), ("other", T("o"))).Out("y");
        yield return new NodeProgram("view_as").In("x", X(2, 3, 4)).In("o", X(4, 6)).Node("aten.view_as.default", "y", ("self", T("x")), ("other", T("o"))).Out("y");
        yield return new NodeProgram("unbind").In("x", X(2, 3, 4)).Node("aten.unbind.int", [new TensorsArg(["a", "b", "c"])], null, ("self", T("x")), ("dim", I(1))).Out("a", "b", "c");
        yield return new NodeProgram("unflatten, symbolic").In("x", X(2, 3, 12), "s0", "s1", "12")
            .Node("aten.unflatten.int", "y", ("self", T("x")), ("dim", I(-1)), ("sizes", Is(3, 4))).Dims("y", "s0", "s1", "3", "4").Out("y");
        yield return new NodeProgram("tril").In("x", X(4, 5)).Node("aten.tril.default", "y", ("self", T("x")), ("diagonal", I(1))).Out("y");
        yield return new NodeProgram("type_as").In("x", Ints(9, 3, 4)).In("o", X(2)).Node("aten.type_as.default", "y", ("self", T("x")), ("other", T("o"))).Out("y");
        yield return new NodeProgram("copy").In("x", X(3, 4)).In("s", Ints(5, 4)).Node("aten.copy.default", [T("y")], Formula(v => v("s").to(ScalarType.Float32).expand(3, 4)), ("self", T("x")), ("src", T("s"))).Out("y");

        yield return Unary("aten.logsumexp.default", ("dim", Is(1)), ("keepdim", new BoolArg(true)));
        yield return new NodeProgram("max.dim").In("x", X(3, 5)).Node("aten.max.dim", [T("v"), T("i")], null, ("self", T("x")), ("dim", I(1))).Out("v", "i");
        yield return new NodeProgram("min.dim").In("x", X(3, 5)).Node("aten.min.dim", [T("v"), T("i")], null, ("self", T("x")), ("dim", I(0)), ("keepdim", new BoolArg(true))).Out("v", "i");

        yield return new NodeProgram("arange.start").In("x", X(2)).Node("aten.arange.start", "y", ("start", I(2)), ("end", I(9))).Out("y");
        foreach (var (target, fill) in new[] { ("new_empty", false), ("new_zeros", false), ("new_full", true) })
        {
            var args = new List<(string, Argument)> { ("self", T("x")), ("size", Is(2, 2)) };
            if (fill)
            {
                args.Add(("fill_value", F(3.5)));
            }
            yield return new NodeProgram(target).In("x", X(3)).Node($"aten.{target}.default", "y", [.. args]).Out("y");
        }
        yield return new NodeProgram("ones").In("x", X(2)).Node("aten.ones.default", "y", ("size", Is(2, 3))).Out("y");
        yield return new NodeProgram("empty").In("x", X(2)).Node("aten.empty.memory_format", "y", ("size", Is(2, 3))).Out("y");
        foreach (var like in new[] { "empty_like", "ones_like", "zeros_like" })
        {
            yield return Unary($"aten.{like}.default");
        }

        yield return new NodeProgram("conv2d same").In("x", X(1, 2, 8, 8)).Weight("w", X(4, 2, 3, 4))
            .Node("aten.conv2d.padding", "y", ("input", T("x")), ("weight", T("w")), ("padding", new StringArg("same"))).Out("y");
        yield return new NodeProgram("conv3d").In("x", X(1, 2, 5, 5, 5)).Weight("w", X(3, 2, 3, 3, 3))
            .Node("aten.conv3d.default", "y", ("input", T("x")), ("weight", T("w")), ("stride", Is(2)), ("padding", Is(1))).Out("y");
        yield return new NodeProgram("conv_transpose1d").In("x", X(1, 2, 7)).Weight("w", X(2, 3, 3))
            .Node("aten.conv_transpose1d.default", "y", ("input", T("x")), ("weight", T("w")), ("stride", Is(2)), ("padding", Is(1)), ("output_padding", Is(1))).Out("y");
        yield return new NodeProgram("conv_transpose2d").In("x", X(1, 2, 5, 5)).Weight("w", X(2, 3, 3, 3)).Weight("b", X(3))
            .Node("aten.conv_transpose2d.input", "y", ("input", T("x")), ("weight", T("w")), ("bias", T("b")), ("stride", Is(2))).Out("y");
        yield return new NodeProgram("max_pool1d_with_indices").In("x", X(1, 2, 9))
            .Node("aten.max_pool1d_with_indices.default", [T("y"), T("i")], null, ("self", T("x")), ("kernel_size", Is(3)), ("stride", Is(2))).Out("y");
        // im2col in PyTorch's unfold order, over windows with and without dilation, padding and stride, batched or not.
        foreach (var (shape, kernel, dilation, padding, stride) in new (long[], long[], long[], long[], long[])[]
        {
            ([1, 2, 5, 6], [2, 3], [1, 1], [0, 0], [1, 1]),
            ([2, 3, 7, 7], [3, 3], [2, 1], [1, 2], [2, 1]),
            ([2, 4, 16, 1], [9, 1], [1, 1], [4, 0], [1, 1]),
            ([2, 3, 8, 9], [2, 2], [1, 1], [0, 0], [2, 3]),
            ([3, 6, 6], [3, 2], [1, 2], [1, 1], [2, 2]),
        })
        {
            yield return new NodeProgram($"im2col [{string.Join(", ", shape)}] kernel {string.Join("x", kernel)} dilation {string.Join("x", dilation)} padding {string.Join("x", padding)} stride {string.Join("x", stride)}")
                .In("x", X(shape)).Node("aten.im2col.default", "y", ("self", T("x")), ("kernel_size", Is(kernel)), ("dilation", Is(dilation)), ("padding", Is(padding)), ("stride", Is(stride))).Out("y");
        }
        // Symbolic spatial dims, and infinities, which the windows copy as they are (a convolution would make NaNs of them).
        var infinite = X(2, 3, 7, 8);
        infinite[0, 1, 3, 4] = tensor(float.PositiveInfinity);
        infinite[1, 2, 0, 0] = tensor(float.NegativeInfinity);
        yield return new NodeProgram("im2col, symbolic, infinities").In("x", infinite, "s0", "3", "s1", "s2")
            .Node("aten.im2col.default", "y", ("self", T("x")), ("kernel_size", Is(3, 2)), ("dilation", Is(1, 2)), ("padding", Is(1, 1)), ("stride", Is(2, 1))).Out("y");

        // Adaptive average pooling of symbolic dims: PyTorch's bins where the sizes divide, where they do not, and with
        // more bins than rows; then a static uneven size, an unbatched input and the 1-D form.
        foreach (var (h, w) in new[] { (5, 7), (6, 4), (7, 13), (8, 9), (9, 6), (10, 11), (11, 12), (12, 5), (13, 8), (3, 2) })
        {
            yield return new NodeProgram($"adaptive_avg_pool2d {h}x{w} to 6x4, symbolic").In("x", X(2, 3, h, w), "s0", "3", "s1", "s2")
                .Node("aten.adaptive_avg_pool2d.default", "y", ("self", T("x")), ("output_size", Is(6, 4))).Out("y");
        }
        yield return new NodeProgram("adaptive_avg_pool2d 7x5 to 3x2, static").In("x", X(1, 2, 7, 5))
            .Node("aten.adaptive_avg_pool2d.default", "y", ("self", T("x")), ("output_size", Is(3, 2))).Out("y");
        yield return new NodeProgram("adaptive_avg_pool2d unbatched, symbolic").In("x", X(3, 9, 10), "3", "s1", "s2")
            .Node("aten.adaptive_avg_pool2d.default", "y", ("self", T("x")), ("output_size", Is(4, 4))).Out("y");
        yield return new NodeProgram("adaptive_avg_pool1d, symbolic").In("x", X(2, 3, 11), "s0", "3", "s1")
            .Node("aten.adaptive_avg_pool1d.default", "y", ("self", T("x")), ("output_size", Is(4))).Out("y");

        yield return new NodeProgram("pixel_shuffle").In("x", X(1, 8, 3, 3)).Node("aten.pixel_shuffle.default", "y", ("self", T("x")), ("upscale_factor", I(2))).Out("y");
        yield return new NodeProgram("_weight_norm").Weight("v", X(4, 3)).Weight("g", X(4, 1)).In("x", X(2, 3))
            .Node("aten._weight_norm.default", [T("w")], Formula(v => v("v") * (v("g") / v("v").norm(1, true))), ("v", T("v")), ("g", T("g")), ("dim", I(0)))
            .Node("aten.linear.default", "y", ("input", T("x")), ("weight", T("w"))).Out("y");
        foreach (var (target, bidirectional) in new[] { ("rnn_tanh", false), ("rnn_relu", true) })
        {
            var directions = bidirectional ? 2 : 1;
            var program = new NodeProgram(target).In("x", X(5, 2, 3)).In("h", X(directions, 2, 4));
            var parameters = new List<string>();
            for (var d = 0; d < directions; d++)
            {
                program.Weight($"wi{d}", X(4, 3)).Weight($"wh{d}", X(4, 4)).Weight($"bi{d}", X(4)).Weight($"bh{d}", X(4));
                parameters.AddRange([$"wi{d}", $"wh{d}", $"bi{d}", $"bh{d}"]);
            }
            yield return program.Node($"aten.{target}.input", [T("y"), T("hn")], null, ("input", T("x")), ("hx", T("h")), ("params", new TensorsArg(parameters)),
                ("has_biases", new BoolArg(true)), ("num_layers", I(1)), ("dropout", F(0)), ("train", new BoolArg(false)),
                ("bidirectional", new BoolArg(bidirectional)), ("batch_first", new BoolArg(false))).Out("y", "hn");
        }

        // Sizes computed at run time: the batch dim is symbolic, so every size below is an ONNX computation.
        yield return new NodeProgram("sym-int arithmetic").In("x", X(5, 3), "s0", "3")
            .Node("aten.sym_size.int", [new SymIntArg(S("n"))], null, ("self", T("x")), ("dim", I(0)))
            .Node("aten.sym_numel.default", [new SymIntArg(S("numel"))], null, ("self", T("x")))
            .Node("_operator.add", [new SymIntArg(S("b"))], null, ("a", new SymIntArg(S("n"))), ("b", I(2)))
            .Node("_operator.sub", [new SymIntArg(S("c"))], null, ("a", new SymIntArg(S("b"))), ("b", I(1)))
            .Node("_operator.mul", [new SymIntArg(S("d"))], null, ("a", new SymIntArg(S("c"))), ("b", I(2)))
            .Node("_operator.floordiv", [new SymIntArg(S("e"))], null, ("a", new SymIntArg(S("d"))), ("b", I(-5)))
            .Node("_operator.neg", [new SymIntArg(S("f"))], null, ("a", new SymIntArg(S("e"))))
            .Node("_operator.mod", [new SymIntArg(S("g"))], null, ("a", new SymIntArg(S("e"))), ("b", I(4)))
            .Node("_operator.sub", [new SymIntArg(S("h"))], null, ("a", new SymIntArg(S("numel"))), ("b", I(12)))
            .Node("_operator.add", [new SymIntArg(S("k"))], null, ("a", new SymIntArg(S("h"))), ("b", new SymIntArg(S("f"))))
            .Node("aten._assert_tensor_metadata.default", [], null, ("a", T("x")))
            .Node("aten.arange.start", "y", ("start", new SymIntArg(S("g"))), ("end", new SymIntArg(S("k"))))
            .Dims("y", "u0").Out("y");
    }
}
