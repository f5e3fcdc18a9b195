using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Kernels that draw random numbers, from libtorch's default generator: the distributions match PyTorch's, the values
/// do not (PyTorch's generator state is not part of the program), so validation compares their shapes and dtypes.
/// </summary>
public static partial class OpKernels
{
    private static void AddRandom(KernelTable t)
    {
        t.Op("aten.rand.default", a => rand(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.randn.default", a => randn(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.rand_like.default", a => rand_like(a.Self, a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.randn_like.default", a => randn_like(a.Self, a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.randint.default", a => randint(a.Long("high"), a.Longs("size"), a.OptionalDType() ?? ScalarType.Int64, a.Device()));
        t.Op("aten.randint.low", a => randint(a.Long("low"), a.Long("high"), a.Longs("size"), a.OptionalDType() ?? ScalarType.Int64, a.Device()));
        t.Op("aten.randint_like.default", a => randint_like(a.Self, 0, a.Long("high"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.randint_like.low_dtype", a => randint_like(a.Self, a.Long("low"), a.Long("high"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
        t.Op("aten.randperm.default", a => randperm(a.Long("n"), a.OptionalDType() ?? ScalarType.Int64, a.Device()));
        t.Op("aten.bernoulli.default", a => a.Self.bernoulli());
        t.Op("aten.bernoulli.p", a => empty_like(a.Self).bernoulli_(a.Double("p", 0.5)));
        t.Op("aten.multinomial.default", a => a.Self.multinomial(a.Long("num_samples"), a.Bool("replacement", false)));
        t.Op("aten.normal.Tensor_Tensor", a => normal(a.Tensor("mean"), a.Tensor("std")));
        t.Op("aten.normal.Tensor_float", a => a.Tensor("mean").add(randn_like(a.Tensor("mean")).mul(a.Double("std", 1))));
        t.Op("aten.normal.float_float", a => normal(a.Double("mean"), a.Double("std"), a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.uniform.default", a => empty_like(a.Self).uniform_(a.Double("from", 0), a.Double("to", 1)));
        t.Op("aten.exponential.default", a => empty_like(a.Self).exponential_(a.Double("lambd", 1)));
        t.Op("aten.cauchy.default", a => empty_like(a.Self).cauchy_(a.Double("median", 0), a.Double("sigma", 1)));
        t.Op("aten.geometric.default", a => empty_like(a.Self).geometric_(a.Double("p")));
        t.Op("aten.log_normal.default", a => empty_like(a.Self).log_normal_(a.Double("mean", 1), a.Double("std", 2)));

        t.Op("aten.alpha_dropout.default", a => F.alpha_dropout(a.Tensor("input"), a.Double("p"), a.Bool("train", false)));
        t.Op("aten.feature_alpha_dropout.default", a => F.feature_alpha_dropout(a.Tensor("input"), a.Double("p"), a.Bool("train", false)));
        t.Op("aten.feature_dropout.default", a => FeatureDropout(a.Tensor("input"), a.Double("p"), a.Bool("train", false)));
    }

    /// <summary>Dropout of whole channels (dim 1; dim 0 for unbatched input) at once, as dropout1d/2d/3d do.</summary>
    private static Tensor FeatureDropout(Tensor input, double p, bool train)
    {
        if (!train || p == 0)
        {
            return input.alias();
        }

        var shape = input.shape.Select((size, d) => d < 2 ? size : 1).ToArray();
        var keep = empty(shape, input.dtype, input.device).bernoulli_(1 - p);
        return input.mul(keep).div(1 - p);
    }
}
