using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Matrix products.</summary>
public static partial class OpKernels
{
    private static void AddLinearAlgebra(KernelTable t)
    {
        t.Op("aten.linear.default", a => F.linear(a.Tensor("input"), a.Tensor("weight"), a.OptionalTensor("bias")));
        t.Op("aten.addmm.default", a => a.Self.addmm(a.Tensor("mat1"), a.Tensor("mat2"), (float)a.Double("beta", 1), (float)a.Double("alpha", 1)));
        t.Op("aten.baddbmm.default", BatchAddMatmul);
        t.Op("aten.mm.default", a => a.Self.mm(a.Tensor("mat2")));
        t.Op("aten.bmm.default", a => a.Self.bmm(a.Tensor("mat2")));
        t.Op("aten.matmul.default", a => Matmul(a.Self, a.Tensor("other")));
        t.Op("aten.addmv.default", a => ScaledSum(a, a.Tensor("mat").mv(a.Tensor("vec"))));
        t.Op("aten.addbmm.default", a => ScaledSum(a, a.Tensor("batch1").bmm(a.Tensor("batch2")).sum([0])));
        t.Op("aten.inner.default", a => a.Self.inner(a.Tensor("other")));
        t.Op("aten.bilinear.default", a => F.bilinear(a.Tensor("input1"), a.Tensor("input2"), a.Tensor("weight"), a.OptionalTensor("bias")));
        t.Op("aten._trilinear.default", Trilinear);
        t.Op("aten.cross.default", a => linalg.cross(a.Self, a.Tensor("other"), a.OptionalLong("dim") ?? Array.FindIndex(a.Self.shape, d => d == 3)));
        t.Op("aten.linalg_cross.default", a => linalg.cross(a.Self, a.Tensor("other"), a.Long("dim", -1)));

        t.Op("aten.cdist.default", a => cdist(a.Tensor("x1"), a.Tensor("x2"), a.Double("p", 2), DistanceMode(a)));
        t.Op("aten._cdist_forward.default", a => cdist(a.Tensor("x1"), a.Tensor("x2"), a.Double("p", 2), DistanceMode(a)));
        t.Op("aten.pdist.default", a => PairwiseRowDistances(a.Self, a.Double("p", 2)));
        t.Op("aten._pdist_forward.default", a => PairwiseRowDistances(a.Self, a.Double("p", 2)));
        t.Op("aten.dist.default", a => linalg.vector_norm(a.Self.sub(a.Tensor("other")), a.Double("p", 2), null, false));
        t.Op("aten.pairwise_distance.default", a => F.pairwise_distance(a.Tensor("x1"), a.Tensor("x2"), a.Double("p", 2), a.Double("eps", 1e-6), a.Bool("keepdim", false)));
    }

    /// <summary>
    /// torch.matmul with libtorch's operand checks made first: TorchSharp 0.107's THSTensor_matmul, unlike its other
    /// products, does not catch libtorch's c10::Error, so operands that do not fit would end the process
    /// (docs/reliability.md). <see cref="Invoke"/> reports the ArgumentException as MB2904, as it does libtorch's errors.
    /// </summary>
    private static Tensor Matmul(Tensor left, Tensor right)
    {
        long[] l = left.shape, r = right.shape;
        if (l.Length == 0 || r.Length == 0)
        {
            throw new ArgumentException($"both operands of matmul must have at least one dim, but they have {l.Length} and {r.Length}");
        }
        if (left.dtype != right.dtype || left.device_type != right.device_type || left.device_index != right.device_index)
        {
            throw new ArgumentException($"the operands of matmul must have one dtype and one device, but they are {left.dtype} on {left.device} and {right.dtype} on {right.device}");
        }
        if (!MatmulSupports(left.dtype, left.device_type))
        {
            throw new ArgumentException($"matmul does not implement {left.dtype} on {left.device}");
        }
        var inner = r.Length == 1 ? r[0] : r[^2];
        if (l[^1] != inner)
        {
            throw new ArgumentException($"the operands of matmul cannot be multiplied: [{string.Join(", ", l)}] has {l[^1]} columns, [{string.Join(", ", r)}] {inner} rows");
        }
        // The dims before the last two broadcast, aligned from the right (a vector has none).
        long[] lb = l.Length > 2 ? l[..^2] : [], rb = r.Length > 2 ? r[..^2] : [];
        for (var i = 1; i <= Math.Min(lb.Length, rb.Length); i++)
        {
            if (lb[^i] != rb[^i] && lb[^i] != 1 && rb[^i] != 1)
            {
                throw new ArgumentException($"the batch dims of matmul's operands [{string.Join(", ", l)}] and [{string.Join(", ", r)}] do not broadcast");
            }
        }
        return left.matmul(right);
    }

    /// <summary>The dtypes libtorch's matrix products implement: floating and complex, and integers on the CPU only.</summary>
    private static bool MatmulSupports(ScalarType dtype, TorchSharp.DeviceType device) => dtype switch
    {
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64 or ScalarType.ComplexFloat32 or ScalarType.ComplexFloat64 => true,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 => device == TorchSharp.DeviceType.CPU,
        _ => false,
    };

    /// <summary>beta * self + alpha * product; as in ATen, beta = 0 ignores self (even NaN in it).</summary>
    private static Tensor ScaledSum(NodeArguments a, Tensor product)
    {
        var scaled = a.Has("alpha") ? product.mul(a.Scalar("alpha")) : product;
        if (a.Double("beta", 1) == 0)
        {
            return where(zeros_like(a.Self, ScalarType.Bool), a.Self, scaled);
        }

        return (a.Has("beta") ? a.Self.mul(a.Scalar("beta")) : a.Self).add(scaled);
    }

    /// <summary>_trilinear: each input unsqueezed at its expand dims, the three multiplied, and the sum dims summed out.</summary>
    private static Tensor Trilinear(NodeArguments a)
    {
        static Tensor Expanded(Tensor x, long[] dims) => dims.Order().Aggregate(x, (t, d) => t.unsqueeze(d));
        var product = Expanded(a.Tensor("i1"), a.Longs("expand1", []))
            .mul(Expanded(a.Tensor("i2"), a.Longs("expand2", [])))
            .mul(Expanded(a.Tensor("i3"), a.Longs("expand3", [])));
        return a.Longs("sumdim", []) is { Length: > 0 } sums ? product.sum(sums) : product;
    }

    /// <summary>ATen's compute_mode: None or 0 uses matrix products for Euclidean distances of large inputs, 1 always, 2 never.</summary>
    private static TorchSharp.compute_mode DistanceMode(NodeArguments a) => a.OptionalLong("compute_mode") switch
    {
        1 => TorchSharp.compute_mode.use_mm_for_euclid_dist,
        2 => TorchSharp.compute_mode.donot_use_mm_for_euclid_dist,
        _ => TorchSharp.compute_mode.use_mm_for_euclid_dist_if_necessary,
    };

    /// <summary>pdist: the distances of row pairs i &lt; j, in row-major order of the pairs.</summary>
    private static Tensor PairwiseRowDistances(Tensor x, double p)
    {
        var all = cdist(x, x, p, TorchSharp.compute_mode.donot_use_mm_for_euclid_dist);
        var n = x.size(0);
        return all.masked_select(ones(n, n, ScalarType.Bool, x.device).triu(1));
    }

    /// <summary>
    /// beta * self + alpha * (batch1 @ batch2), composed because TorchSharp 0.107's baddbmm passes its operands to
    /// libtorch in the wrong order. As in ATen, beta = 0 ignores self (even NaN in it).
    /// </summary>
    private static Tensor BatchAddMatmul(NodeArguments a)
    {
        var beta = a.Double("beta", 1);
        using var product = a.Tensor("batch1").bmm(a.Tensor("batch2"));
        using var scaled = a.Has("alpha") ? product.mul(a.Scalar("alpha")) : product.alias();
        if (beta == 0)
        {
            return scaled.expand(a.Self.shape).contiguous();
        }

        using var bias = a.Has("beta") ? a.Self.mul(a.Scalar("beta")) : a.Self.alias();
        return bias.add(scaled);
    }
}
