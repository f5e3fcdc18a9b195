using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Symbolic values computed at run time with Python's semantics (sizes, <c>.item()</c> values, the comparisons that feed
/// <c>torch._check</c>): sym-ints are <see cref="long"/>s, sym-floats <see cref="double"/>s, sym-bools <see cref="bool"/>s.
/// And the runtime assertions torch.export inserts, which check what they state: a failed one is MB5007 naming the
/// condition and the values.
/// </summary>
public static partial class OpKernels
{
    private static void AddSymbolic(KernelTable t)
    {
        t.Multi("aten.sym_size.int", a => [a.Self.size((int)a.Long("dim"))]);
        t.Multi("aten.sym_numel.default", a => [a.Self.numel()]);
        t.Multi("aten.item.default", a => [Item(a.Self)]);
        t.Multi("aten._local_scalar_dense.default", a => [Item(a.Self)]);

        t.Multi("_operator.add", a => [SymArithmetic.Add(a.Value(0), a.Value(1))]);
        t.Multi("_operator.sub", a => [SymArithmetic.Sub(a.Value(0), a.Value(1))]);
        t.Multi("_operator.mul", a => [SymArithmetic.Mul(a.Value(0), a.Value(1))]);
        t.Multi("_operator.truediv", a => [SymArithmetic.Double(a.Value(0)) / SymArithmetic.Double(a.Value(1))]);
        t.Multi("_operator.floordiv", a => [SymArithmetic.FloorDiv(a.Value(0), a.Value(1))]);
        t.Multi("_operator.mod", a => [SymArithmetic.Mod(a.Value(0), a.Value(1))]);
        t.Multi("_operator.pow", a => [SymArithmetic.Pow(a.Value(0), a.Value(1))]);
        t.Multi("_operator.neg", a => [SymArithmetic.Sub(0L, a.Value(0))]);
        t.Multi("_operator.pos", a => [a.Value(0)]);
        t.Multi("_operator.eq", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) == 0]);
        t.Multi("_operator.ne", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) != 0]);
        t.Multi("_operator.lt", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) < 0]);
        t.Multi("_operator.le", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) <= 0]);
        t.Multi("_operator.gt", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) > 0]);
        t.Multi("_operator.ge", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) >= 0]);
        t.Multi("_operator.and_", a => [SymArithmetic.Truth(a.Value(0)) & SymArithmetic.Truth(a.Value(1))]);
        t.Multi("_operator.or_", a => [SymArithmetic.Truth(a.Value(0)) | SymArithmetic.Truth(a.Value(1))]);
        t.Multi("torch.sym_not", a => [!SymArithmetic.Truth(a.Value(0))]);
        t.Multi("torch.sym_ite", a => [SymArithmetic.Truth(a.Value(0)) ? a.Value(1) : a.Value(2)]);
        t.Multi("torch.sym_max", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) >= 0 ? a.Value(0) : a.Value(1)]);
        t.Multi("torch.sym_min", a => [SymArithmetic.Compare(a.Value(0), a.Value(1)) <= 0 ? a.Value(0) : a.Value(1)]);
        t.Multi("torch.sym_float", a => [SymArithmetic.Double(a.Value(0))]);
        t.Multi("torch.sym_int", a => [(long)Math.Truncate(SymArithmetic.Double(a.Value(0)))]);
        t.Multi("math.trunc", a => [(long)Math.Truncate(SymArithmetic.Double(a.Value(0)))]);
        t.Multi("torch.sym_sqrt", a => [Math.Sqrt(SymArithmetic.Double(a.Value(0)))]);

        t.Multi("aten._assert_scalar.default", a => Check(a, a.Bool("self", false), a.OptionalString("assert_msg")));
        t.Multi("aten._assert_async.msg", a => Check(a, Truth(a.Self, a), a.OptionalString("assert_msg")));
        t.Multi("aten._assert_async.default", a => Check(a, Truth(a.Self, a), null));
        t.Multi("aten.sym_constrain_range.default", a => CheckRange(a, a.OptionalLong("min") ?? long.MinValue));
        t.Multi("aten.sym_constrain_range_for_size.default", a => CheckRange(a, a.OptionalLong("min") ?? 0));
        t.Multi("aten._assert_tensor_metadata.default", CheckMetadata);
    }

    /// <summary>The one value of a tensor, as the sym value of its kind.</summary>
    private static object Item(Tensor t) => t.dtype switch
    {
        ScalarType.Bool => t.item<bool>(),
        ScalarType.Float64 or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 => (object)t.to_type(ScalarType.Float64).item<double>(),
        _ => (object)t.to_type(ScalarType.Int64).item<long>(),
    };

    private static object?[] Check(NodeArguments a, bool holds, string? message) => holds ? []
        : throw new ModelBuildException(DiagnosticCodes.RuntimeAssertionFailed,
            $"the model's runtime check failed: {message ?? "assertion failed"} ({NodeArguments.Describe(a.Node)}{Operands(a)}).");

    /// <summary>sym_constrain_range(size, min, max): the value torch.export bounded (an <c>.item()</c> used as a size) lies in its range.</summary>
    private static object?[] CheckRange(NodeArguments a, long min)
    {
        var size = a.Long("size");
        var max = a.OptionalLong("max") ?? long.MaxValue;
        return Check(a, size >= min && size <= max, $"{size} is outside the range {min}..{(max == long.MaxValue ? "unbounded" : max)} the model constrains it to");
    }

    /// <summary>The sym values an assertion reads, by name: what the condition was evaluated on.</summary>
    private static string Operands(NodeArguments a)
    {
        var names = a.Node.Inputs.Select(i => i.Value switch
        {
            SymIntArg { Value.Name: { } n } => n,
            SymBoolArg { Name: { } n } => n,
            SymFloatArg { Name: { } n } => n,
            _ => null,
        }).OfType<string>().ToList();
        return names.Count == 0 ? "" : " on " + string.Join(", ", names);
    }

    /// <summary>
    /// _assert_tensor_metadata(a, size, stride, dtype, device, layout): what torch.export recorded of a tensor at this point.
    /// Strides are not compared: ModelBuild's kernels may lay a tensor out differently from eager PyTorch with the same values.
    /// </summary>
    private static object?[] CheckMetadata(NodeArguments a)
    {
        var tensor = a.Tensor("a");
        var problems = new List<string>();
        if (a.OptionalDType() is { } dtype && dtype != tensor.dtype)
        {
            problems.Add($"dtype {tensor.dtype}, recorded {dtype}");
        }
        if (a.Has("device") && a.Device() is var device && device.type != tensor.device.type)
        {
            problems.Add($"device {tensor.device.type}, recorded {device.type}");
        }
        if (a.OptionalLongs("size") is { } sizes && !sizes.SequenceEqual(tensor.shape))
        {
            problems.Add($"sizes [{string.Join(", ", tensor.shape)}], recorded [{string.Join(", ", sizes)}]");
        }
        return problems.Count == 0 ? []
            : throw new ModelBuildException(DiagnosticCodes.TensorMetadataMismatch,
                $"{NodeArguments.Describe(a.Node)}: the tensor has {string.Join("; ", problems)} where torch.export recorded otherwise.");
    }
}
