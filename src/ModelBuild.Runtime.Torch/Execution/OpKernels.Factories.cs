using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Kernels that create tensors. They honour the node's dtype and device arguments; without a dtype they infer it as
/// ATen does (from the fill value, or int64 for integral ranges, else the default float), and without a device the
/// <c>*_like</c> ops follow their input while the others use the plan's device.
/// </summary>
public static partial class OpKernels
{
    private static void AddFactories(KernelTable t)
    {
        t.Op("aten.arange.default", a => Arange(a, null, "end", null));
        t.Op("aten.arange.start", a => Arange(a, "start", "end", null));
        t.Op("aten.arange.start_step", a => Arange(a, "start", "end", "step"));
        t.Op("aten.full.default", a => full(a.Longs("size"), a.Scalar("fill_value"), a.OptionalDType() ?? a.ScalarKind("fill_value"), a.Device()));
        t.Op("aten.zeros.default", a => zeros(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.ones.default", a => ones(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        // Uninitialized memory would make results depend on the allocator; zeros cost little more.
        t.Op("aten.empty.memory_format", a => zeros(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.scalar_tensor.default", a => full([], a.Scalar("s"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.full_like.default", a => full(a.Self.shape, a.Scalar("fill_value"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.zeros_like.default", a => zeros(a.Self.shape, a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.ones_like.default", a => ones(a.Self.shape, a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.empty_like.default", a => zeros(a.Self.shape, a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.new_zeros.default", a => zeros(a.Longs("size"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.new_ones.default", a => ones(a.Longs("size"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.new_empty.default", a => zeros(a.Longs("size"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.linspace.default", a => Spaced(a, logBase: null));
        t.Op("aten.linspace.Tensor_Scalar", a => Spaced(a, logBase: null));
        t.Op("aten.logspace.default", a => Spaced(a, a.Double("base", 10)));
        t.Op("aten.logspace.Tensor_Scalar", a => Spaced(a, a.Double("base", 10)));
        t.Op("aten.logspace.Scalar_Tensor", a => Spaced(a, a.Double("base", 10)));
        t.Op("aten.new_full.default", a => full(a.Longs("size"), a.Scalar("fill_value"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
    }

    /// <summary>linspace, or logspace with <paramref name="logBase"/>; start and end are numbers or 0-dim tensors.</summary>
    private static Tensor Spaced(NodeArguments a, double? logBase)
    {
        double Bound(string name) => a.IsTensor(name) ? a.Tensor(name).to(ScalarType.Float64).item<double>() : a.Double(name);
        var (start, end, steps) = (Bound("start"), Bound("end"), a.Long("steps"));
        var dtype = a.OptionalDType() ?? get_default_dtype();
        return logBase is { } b ? logspace(start, end, steps, b, dtype, a.Device()) : linspace(start, end, steps, dtype, a.Device());
    }

    private static Device LikeDevice(NodeArguments a) => a.Has("device") ? a.Device() : a.Self.device;

    private static Tensor Arange(NodeArguments a, string? start, string end, string? step)
    {
        var names = new[] { start, end, step }.OfType<string>().Where(a.Has).ToList();
        var integral = names.All(n => a.ScalarKind(n) == ScalarType.Int64);
        var dtype = a.OptionalDType() ?? (integral ? ScalarType.Int64 : get_default_dtype());
        var from = (start is null ? null : a.OptionalScalar(start)) ?? a.Constant(0);
        var by = (step is null ? null : a.OptionalScalar(step)) ?? a.Constant(1);
        return arange(from, a.Scalar(end), by, dtype, a.Device());
    }
}
