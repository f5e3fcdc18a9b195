using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Tests;

/// <summary>Builds single nodes the way torch.export writes them and runs them through <see cref="OpKernels.Invoke"/>.</summary>
internal static class KernelHarness
{
    public static NamedArgument T(string name, string value) => new(name, new TensorArg(value));

    public static NamedArgument Ts(string name, params string[] values) => new(name, new TensorsArg(values));

    public static NamedArgument I(string name, long value) => new(name, new IntArg(value));

    public static NamedArgument Is(string name, params long[] values) => new(name, new IntsArg(values));

    public static NamedArgument D(string name, double value) => new(name, new FloatArg(value));

    public static NamedArgument B(string name, bool value) => new(name, new BoolArg(value));

    public static NamedArgument S(string name, string value) => new(name, new StringArg(value));

    public static NamedArgument Kw(string name, Argument value) => new(name, value, KwargOnly: true);

    public static object?[] Invoke(string target, IReadOnlyDictionary<string, object> values, int outputs, params NamedArgument[] args)
    {
        var node = new GraphNode(Full(target), args, [.. Enumerable.Range(0, outputs).Select(i => (Argument)new TensorArg($"out{i}"))]);
        return OpKernels.Invoke(node, n => values[n]);
    }

    /// <summary>Runs a one-output op whose tensors are named x, y, z... in the order given.</summary>
    public static Tensor Op(string target, Tensor[] tensors, params NamedArgument[] args) =>
        (Tensor)Invoke(target, Values(tensors), 1, args)[0]!;

    public static Tensor Op(string target, Tensor x, params NamedArgument[] args) => Op(target, [x], args);

    public static Dictionary<string, object> Values(params Tensor[] tensors) =>
        tensors.Select((t, i) => (Name: ((char)('x' + i)).ToString(), Tensor: (object)t)).ToDictionary(p => p.Name, p => p.Tensor);

    public static string Full(string target) => target.StartsWith("aten.", StringComparison.Ordinal) ? "torch.ops." + target : target;

    public static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5, string? message = null)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"shape {message}");
        Assert.AreEqual(expected.dtype, actual.dtype, $"dtype {message}");
        if (expected.numel() == 0)
        {
            return;
        }

        using var e = expected.to(ScalarType.Float64);
        using var a = actual.to(ScalarType.Float64);
        using var diff = (e - a).abs().nan_to_num();
        var max = diff.max().item<double>();
        Assert.IsLessThanOrEqualTo(tolerance, max, $"max abs error {max} {message}");
    }

    public static Tensor F32(float[] values, params long[] shape) => tensor(values, shape);

    public static Tensor Random(params long[] shape)
    {
        using var generator = new Generator(42);
        return randn(shape, generator: generator);
    }
}
