using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>Pointwise operators: activations, arithmetic, comparisons, logic and selection.</summary>
internal static partial class LoweringRules
{
    private static void AddElementwise(RuleTable t)
    {
        foreach (var (target, op) in new[]
        {
            ("relu", "Relu"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh"), ("exp", "Exp"), ("log", "Log"), ("sqrt", "Sqrt"),
            ("erf", "Erf"), ("reciprocal", "Reciprocal"), ("sin", "Sin"), ("cos", "Cos"), ("hardswish", "HardSwish"),
        })
        {
            t.Op($"aten.{target}.default", a => a.B.Op(op, [FloatInput(a)]));
        }
        t.Op("aten.neg.default", a => a.B.Op("Neg", [NumericInput(a)]));
        t.Op("aten.abs.default", a => a.B.Op("Abs", [NumericInput(a)]));
        t.Op("aten.sign.default", a => a.B.Op("Sign", [NumericInput(a)]));
        // Rounding an integer tensor leaves it as it is.
        t.Op("aten.floor.default", a => OnnxTypes.IsFloat(a.OutputDType) ? a.B.Op("Floor", [FloatInput(a)]) : NumericInput(a));
        t.Op("aten.ceil.default", a => OnnxTypes.IsFloat(a.OutputDType) ? a.B.Op("Ceil", [FloatInput(a)]) : NumericInput(a));
        t.Op("aten.expm1.default", a => a.B.Op("Sub", [a.B.Op("Exp", [FloatInput(a)]), a.B.Scalar(1.0, a.OutputDType)]));
        t.Op("aten.isnan.default", a => Predicate(a, x => a.B.Op("IsNaN", [x]), false));
        t.Op("aten.isinf.default", a => Predicate(a, x => a.B.Op("IsInf", [x]), false));
        t.Op("aten.rsqrt.default", a => a.B.Op("Reciprocal", [a.B.Op("Sqrt", [FloatInput(a)])]));
        t.Op("aten.log1p.default", a =>
        {
            var x = FloatInput(a);
            return a.B.Op("Log", [a.B.Op("Add", [x, a.B.Scalar(1.0, a.OutputDType)])]);
        });
        t.Op("aten.silu.default", a =>
        {
            var x = FloatInput(a);
            return a.B.Op("Mul", [x, a.B.Op("Sigmoid", [x])]);
        });
        t.Op("aten.mish.default", a =>
        {
            var x = FloatInput(a);
            return a.B.Op("Mul", [x, a.B.Op("Tanh", [a.B.Op("Softplus", [x])])]);
        });
        t.Op("aten.hardsigmoid.default", a => a.B.Op("HardSigmoid", [FloatInput(a)], Attr.Float("alpha", 1.0 / 6), Attr.Float("beta", 0.5)));
        t.Op("aten.relu6.default", a => Clip(a, FloatInput(a), 0, 6));
        t.Op("aten.hardtanh.default", a => Clip(a, FloatInput(a), a.Double("min_val", -1), a.Double("max_val", 1)));
        t.Op("aten.gelu.default", a => a.OptionalString("approximate") switch
        {
            null or "none" => a.B.Op("Gelu", [FloatInput(a)]),
            "tanh" => a.B.Op("Gelu", [FloatInput(a)], Attr.String("approximate", "tanh")),
            var other => throw a.Unsupported("approximate", other),
        });
        t.Op("aten.leaky_relu.default", a => a.B.Op("LeakyRelu", [FloatInput(a)], Attr.Float("alpha", a.Double("negative_slope", 0.01))));
        t.Op("aten.elu.default", Elu);
        t.Op("aten.softplus.default", Softplus);
        t.Op("aten.clamp.default", a =>
        {
            var dtype = a.OutputDType;
            a.Require(dtype, TensorDTypeSet.Numeric, "the result");
            var x = a.Operand("self", dtype);
            return a.B.Op("Clip", [x, a.Has("min") ? a.Operand("min", dtype) : "", a.Has("max") ? a.Operand("max", dtype) : ""]);
        });
        t.Op("aten.clamp_min.default", a => ClampOne(a, "min", "Max"));
        t.Op("aten.clamp_max.default", a => ClampOne(a, "max", "Min"));
        t.Op("aten.clamp.Tensor", a =>
        {
            var dtype = a.OutputDType;
            a.Require(dtype, TensorDTypeSet.Numeric, "the result");
            var x = a.Operand("self", dtype);
            x = a.Has("min") ? a.B.Op("Max", [x, a.Operand("min", dtype)]) : x;
            return a.Has("max") ? a.B.Op("Min", [x, a.Operand("max", dtype)]) : x;
        });
        t.Op("aten.pow.Tensor_Scalar", a => Arithmetic(a, "Pow", "self", "exponent"));
        t.Op("aten.pow.Tensor_Tensor", a => Arithmetic(a, "Pow", "self", "exponent"));
        t.Op("aten.pow.Scalar", a => Arithmetic(a, "Pow", "self", "exponent"));
        t.Op("aten.square.default", a =>
        {
            var x = NumericInput(a);
            return a.B.Op("Mul", [x, x]);
        });

        foreach (var overload in new[] { "Tensor", "Scalar" })
        {
            t.Op($"aten.add.{overload}", a => AddSub(a, "Add"));
            t.Op($"aten.sub.{overload}", a => AddSub(a, "Sub"));
            t.Op($"aten.mul.{overload}", a => Arithmetic(a, "Mul", "self", "other"));
            t.Op($"aten.div.{overload}", a => Arithmetic(a, "Div", "self", "other"));
            t.Op($"aten.div.{overload}_mode", Divide);
            t.Op($"aten.rsub.{overload}", RSub);
            t.Op($"aten.remainder.{overload}", a => Remainder(a, python: true));
            t.Op($"aten.fmod.{overload}", a => Remainder(a, python: false));
            foreach (var (target, op, negate) in new[]
            {
                ("eq", "Equal", false), ("ne", "Equal", true), ("lt", "Less", false), ("le", "LessOrEqual", false),
                ("gt", "Greater", false), ("ge", "GreaterOrEqual", false),
            })
            {
                t.Op($"aten.{target}.{overload}", a => Compare(a, op, negate));
            }
            t.Op($"aten.__and__.{overload}", a => Bitwise(a, "And", "BitwiseAnd"));
            t.Op($"aten.__or__.{overload}", a => Bitwise(a, "Or", "BitwiseOr"));
            t.Op($"aten.__xor__.{overload}", a => Bitwise(a, "Xor", "BitwiseXor"));
            t.Op($"aten.bitwise_and.{overload}", a => Bitwise(a, "And", "BitwiseAnd"));
            t.Op($"aten.bitwise_or.{overload}", a => Bitwise(a, "Or", "BitwiseOr"));
            t.Op($"aten.bitwise_xor.{overload}", a => Bitwise(a, "Xor", "BitwiseXor"));
        }
        t.Op("aten.multiply.Tensor", a => Arithmetic(a, "Mul", "self", "other"));
        t.Op("aten.floor_divide.default", a => FloorDivide(a, a.Operand("self", a.OutputDType), a.Operand("other", a.OutputDType), a.OutputDType));
        t.Op("aten.maximum.default", a => Arithmetic(a, "Max", "self", "other"));
        t.Op("aten.minimum.default", a => Arithmetic(a, "Min", "self", "other"));
        t.Op("aten.min.other", a => Arithmetic(a, "Min", "self", "other"));
        t.Op("aten.max.other", a => Arithmetic(a, "Max", "self", "other"));

        t.Op("aten.logical_not.default", a => a.B.Op("Not", [Boolean(a, "self")]));
        t.Op("aten.logical_and.default", a => a.B.Op("And", [Boolean(a, "self"), Boolean(a, "other")]));
        t.Op("aten.logical_or.default", a => a.B.Op("Or", [Boolean(a, "self"), Boolean(a, "other")]));
        t.Op("aten.logical_xor.default", a => a.B.Op("Xor", [Boolean(a, "self"), Boolean(a, "other")]));
        t.Op("aten.bitwise_not.default", a =>
        {
            var dtype = a.OutputDType;
            if (dtype == TensorDType.BOOL)
            {
                return a.B.Op("Not", [a.Self]);
            }
            a.Require(dtype, TensorDTypeSet.Integer, "the tensor");
            return a.B.Op("BitwiseNot", [a.Self]);
        });

        t.Op("aten.where.self", Where);
        t.Op("aten.where.ScalarOther", Where);
        t.Op("aten.where.ScalarSelf", Where);
        t.Op("aten.where.Scalar", Where);
        t.Op("aten.masked_fill.Scalar", a => a.B.Op("Where", [Boolean(a, "mask"), a.Operand("value", a.OutputDType), a.Operand("self", a.OutputDType)]));
        t.Op("aten.masked_fill.Tensor", a => a.B.Op("Where", [Boolean(a, "mask"), a.Operand("value", a.OutputDType), a.Operand("self", a.OutputDType)]));
        t.Op("aten.diff.default", Diff);

        t.Op("aten.dropout.default", a => a.Bool("train", true) ? throw Random("dropout in training mode") : a.Tensor("input"));
        t.Multi("aten.native_dropout.default", a =>
        {
            if (a.Bool("train", true))
            {
                throw Random("dropout in training mode");
            }
            var input = a.Tensor("input");
            return [input, a.IsRead(1) ? Fill(a, a.B.Op("Shape", [input]), 1L, TensorDType.BOOL) : null];
        });
    }

    /// <summary>Random numbers differ between PyTorch and ONNX Runtime: such nodes stay on TorchSharp.</summary>
    private static NotLowerableException Random(string what) => new($"{what} draws random numbers");

    /// <summary><c>self</c> as the (floating) result dtype, which the activation rules take in float32.</summary>
    private static string FloatInput(LoweringNode a)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Float, "the result");
        return a.Operand("self", dtype);
    }

    private static string NumericInput(LoweringNode a)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        return a.Operand("self", dtype);
    }

    /// <summary>A tensor argument as bool (PyTorch's logical ops take any dtype: nonzero is true).</summary>
    private static string Boolean(LoweringNode a, string name) =>
        a.Meta(name).DType == TensorDType.BOOL ? a.Tensor(name) : a.B.Op("Cast", [a.Tensor(name)], Attr.Int("to", OnnxTypes.Of(TensorDType.BOOL)));

    private static string Clip(LoweringNode a, string x, double min, double max) =>
        a.B.Op("Clip", [x, a.B.Scalar(min, a.OutputDType), a.B.Scalar(max, a.OutputDType)]);

    private static string ClampOne(LoweringNode a, string bound, string op)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        return a.B.Op(op, [a.Operand("self", dtype), a.Operand(bound, dtype)]);
    }

    /// <summary>A test of float elements; an integer or bool tensor, which holds no NaN or infinity, gives <paramref name="integers"/> everywhere.</summary>
    private static string Predicate(LoweringNode a, Func<string, string> test, bool integers)
    {
        var meta = a.SelfMeta;
        if (OnnxTypes.IsFloat(meta.DType))
        {
            a.Require(meta.DType, TensorDTypeSet.Float, "the tensor");
            return test(a.Self);
        }
        return Fill(a, a.B.Op("Shape", [a.Self]), integers ? 1L : 0L, TensorDType.BOOL);
    }

    /// <summary>A binary operator computed in the result dtype, both operands cast to it; on bools, * is and, + and max are or, min is and.</summary>
    private static string Arithmetic(LoweringNode a, string op, string left, string right)
    {
        var dtype = a.OutputDType;
        if (dtype == TensorDType.BOOL && op is "Mul" or "Max" or "Min")
        {
            return a.B.Op(op == "Max" ? "Or" : "And", [a.Operand(left, dtype), a.Operand(right, dtype)]);
        }
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        return a.B.Op(op, [a.Operand(left, dtype), a.Operand(right, dtype)]);
    }

    /// <summary>self + alpha * other (or minus).</summary>
    private static string AddSub(LoweringNode a, string op)
    {
        var dtype = a.OutputDType;
        if (dtype == TensorDType.BOOL && op == "Add" && !a.Has("alpha"))
        {
            return a.B.Op("Or", [a.Operand("self", dtype), a.Operand("other", dtype)]);
        }
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        var other = a.Operand("other", dtype);
        if (a.Has("alpha"))
        {
            other = a.B.Op("Mul", [other, a.Operand("alpha", dtype)]);
        }
        return a.B.Op(op, [a.Operand("self", dtype), other]);
    }

    /// <summary>rsub(self, other, alpha) = other - alpha * self.</summary>
    private static string RSub(LoweringNode a)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        var self = a.Operand("self", dtype);
        if (a.Has("alpha"))
        {
            self = a.B.Op("Mul", [self, a.Operand("alpha", dtype)]);
        }
        return a.B.Op("Sub", [a.Operand("other", dtype), self]);
    }

    private static string Divide(LoweringNode a)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        var x = a.Operand("self", dtype);
        var y = a.Operand("other", dtype);
        return a.OptionalString("rounding_mode") switch
        {
            null => a.B.Op("Div", [x, y]),
            // ONNX's integer Div truncates; a float quotient is truncated as sign * floor(|q|).
            "trunc" when !OnnxTypes.IsFloat(dtype) => a.B.Op("Div", [x, y]),
            "trunc" => a.B.Op("Div", [x, y]) is var q ? a.B.Op("Mul", [a.B.Op("Sign", [q]), a.B.Op("Floor", [a.B.Op("Abs", [q])])]) : q,
            "floor" => FloorDivide(a, x, y, dtype),
            var other => throw a.Unsupported("rounding_mode", other),
        };
    }

    /// <summary>Python's //: floor of the quotient; for integers (x - x mod y) / y with Python's mod, which is exact.</summary>
    private static string FloorDivide(LoweringNode a, string x, string y, TensorDType dtype)
    {
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        return OnnxTypes.IsFloat(dtype)
            ? a.B.Op("Floor", [a.B.Op("Div", [x, y])])
            : a.B.Op("Div", [a.B.Op("Sub", [x, a.B.Op("Mod", [x, y])]), y]);
    }

    /// <summary>remainder (the divisor's sign, Python's %) or fmod (the dividend's sign, C's fmod).</summary>
    private static string Remainder(LoweringNode a, bool python)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        var x = a.Operand("self", dtype);
        var y = a.Operand("other", dtype);
        if (!python)
        {
            return a.B.Op("Mod", [x, y], Attr.Int("fmod", 1));
        }
        // ONNX's Mod follows the divisor's sign only for integers; floats get x - floor(x / y) * y.
        return OnnxTypes.IsFloat(dtype)
            ? a.B.Op("Sub", [x, a.B.Op("Mul", [a.B.Op("Floor", [a.B.Op("Div", [x, y])]), y])])
            : a.B.Op("Mod", [x, y]);
    }

    private static string Compare(LoweringNode a, string op, bool negate)
    {
        var dtype = CommonDType(a, "self", "other");
        if (dtype == TensorDType.BOOL && op == "Equal")
        {
            var equal = a.B.Op("Equal", [a.Operand("self", dtype), a.Operand("other", dtype)]);
            return negate ? a.B.Op("Not", [equal]) : equal;
        }
        // Order comparisons of bools compare them as integers.
        var compared = dtype == TensorDType.BOOL ? TensorDType.I32 : dtype;
        a.Require(compared, TensorDTypeSet.Numeric, "the compared dtype");
        var result = a.B.Op(op, [a.Operand("self", compared), a.Operand("other", compared)]);
        return negate ? a.B.Op("Not", [result]) : result;
    }

    /// <summary>&amp;, |, ^: logical on bools, bitwise on integers.</summary>
    private static string Bitwise(LoweringNode a, string logical, string bitwise)
    {
        var dtype = a.OutputDType;
        if (dtype == TensorDType.BOOL)
        {
            return a.B.Op(logical, [a.Operand("self", dtype), a.Operand("other", dtype)]);
        }
        a.Require(dtype, TensorDTypeSet.Integer, "the result");
        return a.B.Op(bitwise, [a.Operand("self", dtype), a.Operand("other", dtype)]);
    }

    private static string Where(LoweringNode a)
    {
        var dtype = a.OutputDType;
        return a.B.Op("Where", [Boolean(a, "condition"), a.Operand("self", dtype), a.Operand("other", dtype)]);
    }

    /// <summary>elu(x) = scale * (x if x &gt; 0 else alpha * (exp(input_scale * x) - 1)).</summary>
    private static string Elu(LoweringNode a)
    {
        var x = FloatInput(a);
        var alpha = a.Double("alpha", 1);
        var scale = a.Double("scale", 1);
        var inputScale = a.Double("input_scale", 1);
        if (scale == 1 && inputScale == 1)
        {
            return a.B.Op("Elu", [x], Attr.Float("alpha", alpha));
        }
        var dtype = a.OutputDType;
        var negative = a.B.Op("Mul", [a.B.Scalar(alpha, dtype), a.B.Op("Sub", [a.B.Op("Exp", [a.B.Op("Mul", [x, a.B.Scalar(inputScale, dtype)])]), a.B.Scalar(1.0, dtype)])]);
        var elu = a.B.Op("Where", [a.B.Op("Greater", [x, a.B.Scalar(0.0, dtype)]), x, negative]);
        return a.B.Op("Mul", [elu, a.B.Scalar(scale, dtype)]);
    }

    /// <summary>softplus(x) = log(1 + exp(beta * x)) / beta, and x itself where beta * x &gt; threshold.</summary>
    private static string Softplus(LoweringNode a)
    {
        var x = FloatInput(a);
        var dtype = a.OutputDType;
        var beta = a.Double("beta", 1);
        var threshold = a.Double("threshold", 20);
        var scaled = beta == 1 ? x : a.B.Op("Mul", [x, a.B.Scalar(beta, dtype)]);
        var soft = a.B.Op("Softplus", [scaled]);
        if (beta != 1)
        {
            soft = a.B.Op("Div", [soft, a.B.Scalar(beta, dtype)]);
        }
        // Above 20 softplus equals x to float32 precision: the threshold matters only below that.
        return threshold >= 20 ? soft : a.B.Op("Where", [a.B.Op("Greater", [scaled, a.B.Scalar(threshold, dtype)]), x, soft]);
    }

    /// <summary>diff: n first-order differences along dim of prepend, self and append joined.</summary>
    private static string Diff(LoweringNode a)
    {
        var n = a.Long("n", 1);
        var rank = a.SelfMeta.Rank;
        var axis = Axis(a.Long("dim", -1), rank);
        var parts = new[] { a.OptionalTensor("prepend"), a.Self, a.OptionalTensor("append") }.OfType<string>().ToList();
        var x = parts.Count == 1 ? parts[0] : a.B.Op("Concat", parts, Attr.Int("axis", axis));
        a.Require(a.OutputDType, TensorDTypeSet.Numeric, "the result");
        for (var i = 0; i < n; i++)
        {
            var later = a.B.Op("Slice", [x, a.B.Ints(1), a.B.Ints(long.MaxValue), a.B.Ints(axis)]);
            var earlier = a.B.Op("Slice", [x, a.B.Ints(0), a.B.Ints(-1), a.B.Ints(axis)]);
            x = a.B.Op("Sub", [later, earlier]);
        }
        return x;
    }
}
