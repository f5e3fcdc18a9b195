using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Pointwise kernels: activations, arithmetic, comparisons, logic and selection.</summary>
public static partial class OpKernels
{
    private static void AddElementwise(KernelTable t)
    {
        t.Unary("aten.relu.default", x => x.relu());
        t.Unary("aten.sigmoid.default", x => x.sigmoid());
        t.Unary("aten.tanh.default", x => x.tanh());
        t.Unary("aten.exp.default", x => x.exp());
        t.Unary("aten.log.default", x => x.log());
        t.Unary("aten.log1p.default", x => x.log1p());
        t.Unary("aten.sqrt.default", x => x.sqrt());
        t.Unary("aten.rsqrt.default", x => x.rsqrt());
        t.Unary("aten.neg.default", x => x.neg());
        t.Unary("aten.abs.default", x => x.abs());
        t.Unary("aten.erf.default", x => x.erf());
        t.Unary("aten.reciprocal.default", x => x.reciprocal());
        t.Unary("aten.sin.default", x => x.sin());
        t.Unary("aten.cos.default", x => x.cos());
        t.Unary("aten.floor.default", x => x.floor());
        t.Unary("aten.ceil.default", x => x.ceil());
        t.Unary("aten.sign.default", x => x.sign());
        t.Unary("aten.silu.default", x => x.silu());
        t.Unary("aten.hardswish.default", x => x.hardswish());
        t.Unary("aten.hardsigmoid.default", x => x.hardsigmoid());
        t.Unary("aten.relu6.default", x => x.relu6());
        t.Unary("aten.mish.default", x => F.mish(x));
        t.Unary("aten.logical_not.default", x => x.logical_not());
        t.Unary("aten.bitwise_not.default", x => x.bitwise_not());
        t.Op("aten.gelu.default", a => a.OptionalString("approximate") switch
        {
            null or "none" => a.Self.gelu(),
            "tanh" => a.Self.gelu(TorchSharp.Modules.GELU.Approximate.tanh),
            var other => throw a.Unsupported("approximate", $"'{other}'"),
        }, n => n.OneOf("approximate", "none", "tanh"));
        t.Op("aten.leaky_relu.default", a => a.Self.leaky_relu(a.Scalar("negative_slope", 0.01)));
        t.Op("aten.elu.default", a => a.Self.elu(a.Scalar("alpha", 1), a.Scalar("scale", 1), a.Scalar("input_scale", 1)));
        // TorchSharp 0.107's Tensor.hardtanh returns its input unchanged; hardtanh is clamp.
        t.Op("aten.hardtanh.default", a => a.Self.clamp(a.Scalar("min_val", -1), a.Scalar("max_val", 1)));
        t.Op("aten.softplus.default", a => a.Self.softplus(a.Double("beta", 1), a.Double("threshold", 20)));
        t.Op("aten.clamp.default", a => a.Self.clamp(a.OptionalScalar("min"), a.OptionalScalar("max")));
        t.Op("aten.clamp.Tensor", a => a.Self.clamp(a.OptionalTensor("min"), a.OptionalTensor("max")));
        t.Op("aten.clamp_min.default", a => a.Self.clamp(a.Scalar("min"), null));
        t.Op("aten.clamp_max.default", a => a.Self.clamp(null, a.Scalar("max")));
        t.Op("aten.pow.Tensor_Scalar", a => a.Self.pow(a.Scalar("exponent")));
        t.Op("aten.pow.Tensor_Tensor", a => a.Self.pow(a.Tensor("exponent")));

        t.Op("aten.add.Tensor", a => AddSub(a, "other", subtract: false));
        t.Op("aten.add.Scalar", a => AddSub(a, "other", subtract: false));
        t.Op("aten.sub.Tensor", a => AddSub(a, "other", subtract: true));
        t.Op("aten.sub.Scalar", a => AddSub(a, "other", subtract: true));
        t.Op("aten.rsub.Scalar", RSub);
        t.Op("aten.rsub.Tensor", RSub);
        t.Op("aten.mul.Tensor", a => Binary(a, "other", (x, y) => x.mul(y), (x, s) => x.mul(s)));
        t.Op("aten.mul.Scalar", a => Binary(a, "other", (x, y) => x.mul(y), (x, s) => x.mul(s)));
        t.Op("aten.div.Tensor", a => Divide(a));
        t.Op("aten.div.Scalar", a => Divide(a));
        t.Op("aten.div.Tensor_mode", a => Divide(a), n => n.OneOf("rounding_mode", "trunc", "floor"));
        t.Op("aten.div.Scalar_mode", a => Divide(a), n => n.OneOf("rounding_mode", "trunc", "floor"));
        t.Op("aten.remainder.Tensor", a => Binary(a, "other", (x, y) => x.remainder(y), (x, s) => x.remainder(s)));
        t.Op("aten.remainder.Scalar", a => Binary(a, "other", (x, y) => x.remainder(y), (x, s) => x.remainder(s)));
        t.Op("aten.fmod.Tensor", a => Binary(a, "other", (x, y) => x.fmod(y), (x, s) => x.fmod(s)));
        t.Op("aten.fmod.Scalar", a => Binary(a, "other", (x, y) => x.fmod(y), (x, s) => x.fmod(s)));
        t.Op("aten.floor_divide.default", a => a.Self.div(a.Tensor("other"), RoundingMode.floor));
        t.Op("aten.maximum.default", a => a.Self.maximum(a.Tensor("other")));
        t.Op("aten.minimum.default", a => a.Self.minimum(a.Tensor("other")));

        foreach (var overload in new[] { "Tensor", "Scalar" })
        {
            t.Op($"aten.eq.{overload}", a => Binary(a, "other", (x, y) => x.eq(y), (x, s) => x.eq(s)));
            t.Op($"aten.ne.{overload}", a => Binary(a, "other", (x, y) => x.ne(y), (x, s) => x.ne(s)));
            t.Op($"aten.lt.{overload}", a => Binary(a, "other", (x, y) => x.lt(y), (x, s) => x.lt(s)));
            t.Op($"aten.le.{overload}", a => Binary(a, "other", (x, y) => x.le(y), (x, s) => x.le(s)));
            t.Op($"aten.gt.{overload}", a => Binary(a, "other", (x, y) => x.gt(y), (x, s) => x.gt(s)));
            t.Op($"aten.ge.{overload}", a => Binary(a, "other", (x, y) => x.ge(y), (x, s) => x.ge(s)));
        }

        t.Op("aten.logical_and.default", a => a.Self.logical_and(a.Tensor("other")));
        t.Op("aten.logical_or.default", a => a.Self.logical_or(a.Tensor("other")));
        t.Op("aten.logical_xor.default", a => logical_xor(a.Self, a.Tensor("other")));
        t.Op("aten.bitwise_and.Tensor", a => bitwise_and(a.Self, a.Tensor("other")));
        t.Op("aten.bitwise_or.Tensor", a => bitwise_or(a.Self, a.Tensor("other")));
        t.Op("aten.bitwise_xor.Tensor", a => bitwise_xor(a.Self, a.Tensor("other")));
        t.Op("aten.bitwise_and.Scalar", a => Bitwise(a, (x, y) => x.bitwise_and(y)));
        t.Op("aten.bitwise_or.Scalar", a => Bitwise(a, (x, y) => x.bitwise_or(y)));
        t.Op("aten.bitwise_xor.Scalar", a => Bitwise(a, (x, y) => x.bitwise_xor(y)));
        // Python's &, |, ^ on tensors (HF transformers build masks with them): bitwise, logical on bool tensors.
        foreach (var overload in new[] { "Tensor", "Scalar" })
        {
            t.Op($"aten.__and__.{overload}", a => Bitwise(a, (x, y) => x.bitwise_and(y)));
            t.Op($"aten.__or__.{overload}", a => Bitwise(a, (x, y) => x.bitwise_or(y)));
            t.Op($"aten.__xor__.{overload}", a => Bitwise(a, (x, y) => x.bitwise_xor(y)));
        }
        t.Op("aten.diff.default", Diff, n => n.Long("n") < 0 ? $"argument 'n' = {n.Long("n")} is not supported (the order must be 0 or more)" : null);

        t.Op("aten.where.self", a => where(a.Tensor("condition"), a.Self, a.Tensor("other")));
        t.Op("aten.where.ScalarOther", a => Where(a, a.Self, ScalarTensor(a, "other", a.Self.device)));
        t.Op("aten.where.ScalarSelf", a => Where(a, ScalarTensor(a, "self", a.Tensor("other").device), a.Tensor("other")));
        t.Op("aten.where.Scalar", a => Where(a, ScalarTensor(a, "self", a.Tensor("condition").device), ScalarTensor(a, "other", a.Tensor("condition").device)));
        t.Op("aten.masked_fill.Scalar", a => a.Self.masked_fill(a.Tensor("mask"), a.Scalar("value")));
        t.Op("aten.masked_fill.Tensor", a =>
        {
            using var value = a.Tensor("value").to(a.Self.dtype);
            return where(a.Tensor("mask"), value, a.Self);
        });

        t.Op("aten.dropout.default", a => a.Bool("train", true) ? F.dropout(a.Tensor("input"), a.Double("p"), training: true) : a.Tensor("input"));
        t.Multi("aten.native_dropout.default", a =>
        {
            var input = a.Tensor("input");
            if (a.Bool("train", true))
            {
                var keep = 1 - a.Double("p");
                using var noise = rand_like(input);
                var mask = noise.lt(keep);
                using var kept = input.mul(mask);
                return [kept.div(keep), mask];
            }

            return [input, ones_like(input, ScalarType.Bool)];
        });
    }

    /// <summary>
    /// A binary op of self and other, either of which may be a scalar: the <c>.Tensor</c> overloads take both in exported
    /// graphs (<c>sub.Tensor(1.0, x)</c> from decompositions). A scalar self becomes a 0-dim tensor, which type promotion
    /// treats like the scalar itself.
    /// </summary>
    private static Tensor Binary(NodeArguments a, string other, Func<Tensor, Tensor, Tensor> tensorOp, Func<Tensor, Scalar, Tensor> scalarOp)
    {
        if (!a.IsTensor("self"))
        {
            var y = a.Tensor(other);
            using var self = ScalarTensor(a, "self", y.device);
            return tensorOp(self, y);
        }

        return a.IsTensor(other) ? tensorOp(a.Self, a.Tensor(other)) : scalarOp(a.Self, a.Scalar(other));
    }

    private static Tensor AddSub(NodeArguments a, string other, bool subtract)
    {
        var alpha = a.OptionalScalar("alpha");
        if (!a.IsTensor("self"))
        {
            var y = a.Tensor(other);
            using var self = ScalarTensor(a, "self", y.device);
            using var scaled = alpha is null ? y.alias() : y.mul(alpha);
            return subtract ? self.sub(scaled) : self.add(scaled);
        }

        if (a.IsTensor(other))
        {
            var y = a.Tensor(other);
            if (alpha is null)
            {
                return subtract ? a.Self.sub(y) : a.Self.add(y);
            }

            if (!subtract)
            {
                return a.Self.add(y, alpha);
            }

            using var scaled = y.mul(alpha);
            return a.Self.sub(scaled);
        }

        var s = a.Scalar(other);
        if (alpha is null)
        {
            return subtract ? a.Self.sub(s) : a.Self.add(s);
        }

        if (!subtract)
        {
            return a.Self.add(s, alpha);
        }

        // x - alpha * s, with TorchSharp's add(scalar, alpha) only: -(-x + alpha * s).
        using var negated = a.Self.neg();
        using var sum = negated.add(s, alpha);
        return sum.neg();
    }

    /// <summary>rsub(self, other, alpha) = other - alpha * self.</summary>
    private static Tensor RSub(NodeArguments a)
    {
        using var scaled = a.Has("alpha") ? a.Self.mul(a.Scalar("alpha")) : a.Self.alias();
        if (a.IsTensor("other"))
        {
            return a.Tensor("other").sub(scaled);
        }

        using var negated = scaled.neg();
        return negated.add(a.Scalar("other"));
    }

    private static Tensor Divide(NodeArguments a)
    {
        var mode = a.OptionalString("rounding_mode") switch
        {
            null => RoundingMode.None,
            "trunc" => RoundingMode.trunc,
            "floor" => RoundingMode.floor,
            var other => throw a.Unsupported("rounding_mode", $"'{other}'"),
        };
        return Binary(a, "other", (x, y) => x.div(y, mode), (x, s) => x.div(s, mode));
    }

    /// <summary>where(condition, x, y); the 0-dim tensors made for scalars go with the kernel's dispose scope.</summary>
    private static Tensor Where(NodeArguments a, Tensor x, Tensor y) => where(a.Tensor("condition"), x, y);

    /// <summary>A bitwise op of self and a tensor or a scalar; TorchSharp's take tensors only, so a scalar becomes a 0-dim tensor.</summary>
    private static Tensor Bitwise(NodeArguments a, Func<Tensor, Tensor, Tensor> op)
    {
        if (a.IsTensor("other"))
        {
            return op(a.Self, a.Tensor("other"));
        }

        using var other = full([], a.Scalar("other"), a.ScalarKind("other"), a.Self.device);
        return op(a.Self, other);
    }

    /// <summary>
    /// diff(self, n, dim, prepend, append): n first-order differences along dim of prepend, self and append joined.
    /// TorchSharp implements n = 1 only, so higher orders repeat it.
    /// </summary>
    private static Tensor Diff(NodeArguments a)
    {
        var n = a.Long("n", 1);
        var dim = a.Long("dim", -1);
        if (n < 0)
        {
            throw a.Unsupported("n", $"{n} (the order must be 0 or more)");
        }
        if (n == 0)
        {
            return a.Self.alias();
        }

        var result = a.Self.diff(1, dim, a.OptionalTensor("prepend"), a.OptionalTensor("append"));
        for (var i = 1; i < n; i++)
        {
            using var previous = result;
            result = previous.diff(1, dim);
        }
        return result;
    }

    /// <summary>A Scalar argument as a 0-dim tensor, which type promotion treats like the scalar itself.</summary>
    private static Tensor ScalarTensor(NodeArguments a, string name, Device device) =>
        full([], a.Scalar(name), a.ScalarKind(name), device);
}
