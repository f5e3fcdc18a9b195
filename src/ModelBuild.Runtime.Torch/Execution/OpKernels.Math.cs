using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Pointwise mathematics: trigonometry, rounding, floating-point tests, special functions, and two-operand math.</summary>
public static partial class OpKernels
{
    private static void AddMath(KernelTable t)
    {
        t.Unary("aten.tan.default", x => x.tan());
        t.Unary("aten.asin.default", x => x.asin());
        t.Unary("aten.acos.default", x => x.acos());
        t.Unary("aten.atan.default", x => x.atan());
        t.Unary("aten.sinh.default", x => x.sinh());
        t.Unary("aten.cosh.default", x => x.cosh());
        t.Unary("aten.asinh.default", x => x.asinh());
        t.Unary("aten.acosh.default", x => x.acosh());
        t.Unary("aten.atanh.default", x => x.atanh());
        t.Unary("aten.deg2rad.default", x => x.deg2rad());
        t.Unary("aten.expm1.default", x => x.expm1());
        t.Unary("aten.exp2.default", x => x.exp2());
        t.Unary("aten.log2.default", x => x.log2());
        t.Unary("aten.log10.default", x => x.log10());
        t.Unary("aten.square.default", x => x.square());
        t.Unary("aten.trunc.default", x => x.trunc());
        t.Unary("aten.frac.default", x => x.frac());
        t.Unary("aten.round.default", x => x.round());
        t.Op("aten.round.decimals", a => a.Self.round(a.Long("decimals", 0)));
        t.Unary("aten.sgn.default", x => x.sgn());
        t.Unary("aten.signbit.default", x => x.signbit());
        t.Unary("aten.angle.default", x => x.angle());
        t.Unary("aten.sinc.default", x => x.sinc());
        t.Unary("aten.erfc.default", x => x.erfc());
        t.Unary("aten.erfinv.default", x => x.erfinv());
        t.Unary("aten.lgamma.default", x => x.lgamma());
        t.Unary("aten.digamma.default", x => x.digamma());
        t.Unary("aten.i0.default", x => x.i0());
        t.Op("aten.polygamma.default", a => a.Self.polygamma(a.Long("n")));
        t.Op("aten.mvlgamma.default", a => a.Self.mvlgamma(a.Long("p")));
        t.Op("aten.nan_to_num.default", a => a.Self.nan_to_num(a.Double("nan", 0), a.OptionalDouble("posinf"), a.OptionalDouble("neginf")));

        t.Unary("aten.isnan.default", x => x.isnan());
        t.Unary("aten.isinf.default", x => x.isinf());
        t.Unary("aten.isfinite.default", x => x.isfinite());
        t.Unary("aten.isposinf.default", x => x.isposinf());
        t.Unary("aten.isneginf.default", x => x.isneginf());
        t.Op("aten.isclose.default", a => a.Self.isclose(a.Tensor("other"), a.Double("rtol", 1e-5), a.Double("atol", 1e-8), a.Bool("equal_nan", false)));
        t.Op("aten.isin.Tensor_Tensor", a => isin(a.Tensor("elements"), a.Tensor("test_elements"), a.Bool("assume_unique", false), a.Bool("invert", false)));

        t.Op("aten.atan2.default", a => a.Self.atan2(a.Tensor("other")));
        t.Op("aten.hypot.default", a => a.Self.hypot(a.Tensor("other")));
        t.Op("aten.fmax.default", a => a.Self.fmax(a.Tensor("other")));
        t.Op("aten.fmin.default", a => fmin(a.Self, a.Tensor("other")));
        t.Op("aten.max.other", a => a.Self.maximum(a.Tensor("other")));
        t.Op("aten.min.other", a => a.Self.minimum(a.Tensor("other")));
        t.Op("aten.copysign.Tensor", a => a.Self.copysign(a.Tensor("other")));
        t.Op("aten.copysign.Scalar", a => a.Self.copysign(ScalarTensor(a, "other", a.Self.device)));
        t.Op("aten.nextafter.default", a => a.Self.nextafter(a.Tensor("other")));
        t.Op("aten.ldexp.Tensor", a => a.Self.ldexp(a.Tensor("other")));
        t.Op("aten.xlogy.Tensor", a => Binary(a, "other", (x, y) => x.xlogy(y), (x, s) => xlogy(x, s)));
        t.Op("aten.heaviside.default", a => a.Self.heaviside(a.Tensor("values")));
        t.Op("aten.logaddexp.default", a => logaddexp(a.Self, a.Tensor("other")));
        t.Op("aten.logaddexp2.default", a => logaddexp2(a.Self, a.Tensor("other")));
        t.Op("aten.lerp.Tensor", a => a.Self.lerp(a.Tensor("end"), a.Tensor("weight")));
        t.Op("aten.lerp.Scalar", a => a.Self.lerp(a.Tensor("end"), ScalarTensor(a, "weight", a.Self.device)));
        t.Op("aten.true_divide.Tensor", a => Binary(a, "other", (x, y) => x.true_divide(y), (x, s) => x.true_divide(s)));
        t.Op("aten.multiply.Tensor", a => Binary(a, "other", (x, y) => x.mul(y), (x, s) => x.mul(s)));
        t.Op("aten.pow.Scalar", a => ScalarTensor(a, "self", a.Tensor("exponent").device).pow(a.Tensor("exponent")));
        t.Op("aten.clamp_min.Tensor", a => a.Self.clamp(a.Tensor("min"), null));
        t.Op("aten.clamp_max.Tensor", a => a.Self.clamp(null, a.Tensor("max")));
        t.Op("aten.igamma.default", a => special.gammainc(a.Self, a.Tensor("other")));
        t.Op("aten.igammac.default", a => special.gammaincc(a.Self, a.Tensor("other")));

        t.Unary("aten.special_erfcx.default", ScaledErfc);
        t.Unary("aten.special_i0e.default", special.i0e);
        t.Unary("aten.special_i1.default", special.i1);
        t.Unary("aten.special_i1e.default", special.i1e);
        t.Unary("aten.special_ndtr.default", special.ndtr);
        t.Unary("aten.special_ndtri.default", special.ndtri);
        t.Unary("aten.special_log_ndtr.default", LogNdtr);
        t.Op("aten.special_zeta.default", a => special.zeta(a.Self, a.Tensor("other")));
        foreach (var (name, function) in new (string, Func<Tensor, Tensor?, Tensor>)[]
        {
            ("bessel_j0", special.bessel_j0), ("bessel_j1", special.bessel_j1), ("bessel_y0", special.bessel_y0),
            ("bessel_y1", special.bessel_y1), ("modified_bessel_i0", special.modified_bessel_i0),
            ("modified_bessel_i1", special.modified_bessel_i1), ("modified_bessel_k0", special.modified_bessel_k0),
            ("modified_bessel_k1", special.modified_bessel_k1), ("scaled_modified_bessel_k0", special.scaled_modified_bessel_k0),
            ("scaled_modified_bessel_k1", special.scaled_modified_bessel_k1), ("spherical_bessel_j0", special.spherical_bessel_j0),
            ("airy_ai", special.airy_ai),
        })
        {
            // The schemas name the operand self or x; the kernel takes whichever the node gives.
            t.Op($"aten.special_{name}.default", a => function(a.Has("x") ? a.Tensor("x") : a.Self, null));
        }

        foreach (var (name, function) in new (string, Func<Tensor, Tensor, Tensor?, Tensor>)[]
        {
            ("chebyshev_polynomial_t", special.chebyshev_polynomial_t), ("chebyshev_polynomial_u", special.chebyshev_polynomial_u),
            ("chebyshev_polynomial_v", special.chebyshev_polynomial_v), ("chebyshev_polynomial_w", special.chebyshev_polynomial_w),
            ("shifted_chebyshev_polynomial_t", special.shifted_chebyshev_polynomial_t),
            ("shifted_chebyshev_polynomial_u", special.shifted_chebyshev_polynomial_u),
            ("shifted_chebyshev_polynomial_v", special.shifted_chebyshev_polynomial_v),
            ("shifted_chebyshev_polynomial_w", special.shifted_chebyshev_polynomial_w),
            ("hermite_polynomial_h", special.hermite_polynomial_h), ("hermite_polynomial_he", special.hermite_polynomial_he),
            ("laguerre_polynomial_l", special.laguerre_polynomial_l), ("legendre_polynomial_p", special.legendre_polynomial_p),
        })
        {
            t.Op($"aten.special_{name}.default", a => function(a.Tensor("x"), a.Tensor("n"), null));
        }

        t.Op("aten.celu.default", a => F.celu(a.Self, a.Double("alpha", 1)));
        t.Unary("aten.selu.default", x => F.selu(x));
        t.Op("aten.prelu.default", a => F.prelu(a.Self, a.Tensor("weight")));
        t.Op("aten.threshold.default", a => F.threshold(a.Self, a.Double("threshold"), a.Double("value")));
        t.Op("aten.hardshrink.default", a => F.hardshrink(a.Self, a.Double("lambd", 0.5)));
        t.Op("aten.softshrink.default", a => F.softshrink(a.Self, a.Double("lambd", 0.5)));
        t.Unary("aten.log_sigmoid.default", x => F.logsigmoid(x));
        t.Op("aten.glu.default", a => F.glu(a.Self, a.Long("dim", -1)));
        t.Op("aten.rrelu.default", a => RandomizedRelu(a.Self, a.Double("lower", 1.0 / 8), a.Double("upper", 1.0 / 3), a.Bool("training", false)));
        t.Multi("aten.rrelu_with_noise_functional.default", a =>
        {
            var x = a.Self;
            var (lower, upper) = (a.Double("lower", 1.0 / 8), a.Double("upper", 1.0 / 3));
            if (!a.Bool("training", false))
            {
                return [x.leaky_relu((lower + upper) / 2), a.Tensor("noise").clone()];
            }

            var slopes = empty_like(x).uniform_(lower, upper);
            var noise = where(x.ge(0), ones_like(x), slopes);
            return [x.mul(noise), noise];
        });
    }

    /// <summary>
    /// log(ndtr(x)) without underflow: for x &lt; 0 through the scaled complementary error function,
    /// log(erfcx(-x/sqrt 2) / 2) - x^2 / 2; elsewhere log1p(-erfc(x/sqrt 2) / 2).
    /// </summary>
    private static Tensor LogNdtr(Tensor x)
    {
        var scaled = x.div(Math.Sqrt(2));
        var negative = ScaledErfc(scaled.neg()).div(2).log().sub(x.square().div(2));
        var positive = special.erfc(scaled).div(-2).log1p();
        return where(x.lt(0), negative, positive);
    }

    /// <summary>
    /// erfcx(x) = exp(x^2) * erfc(x) (TorchSharp 0.107's special.erfcx computes erfc), in float64: directly below 20,
    /// where the product neither overflows nor underflows, and by its asymptotic series
    /// 1 / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6)) above.
    /// </summary>
    private static Tensor ScaledErfc(Tensor x)
    {
        var wide = x.to(ScalarType.Float64);
        var direct = wide.square().exp().mul(wide.erfc());
        var inverseSquare = wide.square().reciprocal();
        var series = inverseSquare.mul(-15.0 / 8).add(3.0 / 4).mul(inverseSquare).sub(0.5).mul(inverseSquare).add(1)
            .div(wide.mul(Math.Sqrt(Math.PI)));
        return where(wide.lt(20), direct, series).to(x.dtype);
    }

    /// <summary>Randomized leaky ReLU: a slope drawn from [lower, upper] per negative element in training, their mean otherwise.</summary>
    private static Tensor RandomizedRelu(Tensor x, double lower, double upper, bool training)
    {
        if (!training)
        {
            return x.leaky_relu((lower + upper) / 2);
        }

        var slopes = empty_like(x).uniform_(lower, upper);
        return where(x.ge(0), x, x.mul(slopes));
    }
}
