using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>Operators that reduce along dims, scan, normalize to probabilities, or rank.</summary>
internal static partial class LoweringRules
{
    private static void AddReductions(RuleTable t)
    {
        t.Op("aten.sum.dim_IntList", a => Reduce(a, "ReduceSum", TensorDTypeSet.Numeric));
        t.Op("aten.sum.default", a => Reduce(a, "ReduceSum", TensorDTypeSet.Numeric));
        t.Op("aten.mean.dim", a => Reduce(a, "ReduceMean", TensorDTypeSet.Float));
        t.Op("aten.mean.default", a => Reduce(a, "ReduceMean", TensorDTypeSet.Float));
        t.Op("aten.prod.dim_int", a => Reduce(a, "ReduceProd", TensorDTypeSet.Numeric));
        t.Op("aten.prod.default", a => Reduce(a, "ReduceProd", TensorDTypeSet.Numeric));
        t.Op("aten.amax.default", a => Reduce(a, "ReduceMax", TensorDTypeSet.Numeric));
        t.Op("aten.amin.default", a => Reduce(a, "ReduceMin", TensorDTypeSet.Numeric));
        t.Op("aten.max.default", a => Reduce(a, "ReduceMax", TensorDTypeSet.Numeric));
        t.Op("aten.min.default", a => Reduce(a, "ReduceMin", TensorDTypeSet.Numeric));
        t.Op("aten.logsumexp.default", a => Reduce(a, "ReduceLogSumExp", TensorDTypeSet.Float));
        t.Multi("aten.max.dim", a => ValuesAndIndices(a, "ReduceMax", "ArgMax"));
        t.Multi("aten.min.dim", a => ValuesAndIndices(a, "ReduceMin", "ArgMin"));
        t.Op("aten.argmax.default", a => ArgReduce(a, "ArgMax"));
        t.Op("aten.argmin.default", a => ArgReduce(a, "ArgMin"));
        foreach (var overload in new[] { "dim", "dims", "default" })
        {
            t.Op($"aten.any.{overload}", a => AnyAll(a, "ReduceMax"));
            t.Op($"aten.all.{overload}", a => AnyAll(a, "ReduceMin"));
        }
        foreach (var overload in new[] { "correction", "dim", "default" })
        {
            t.Op($"aten.var.{overload}", a => Variance(a, root: false));
            t.Op($"aten.std.{overload}", a => Variance(a, root: true));
        }
        t.Op("aten.linalg_vector_norm.default", VectorNorm);
        t.Op("aten.cumsum.default", a =>
        {
            var dtype = a.OutputDType;
            a.Require(dtype, TensorDTypeSet.Numeric, "the result");
            // A 0-d tensor is its own cumulative sum (ONNX's CumSum needs a dim).
            return a.SelfMeta.Rank == 0 ? a.Operand("self", dtype) : a.B.Op("CumSum", [a.Operand("self", dtype), a.B.Int(Axis(a.Long("dim"), a.SelfMeta.Rank))]);
        });
        t.Op("aten.softmax.int", a => Softmax(a, "Softmax"));
        t.Op("aten._softmax.default", a => Softmax(a, "Softmax"));
        t.Op("aten.log_softmax.int", a => Softmax(a, "LogSoftmax"));
        t.Op("aten._log_softmax.default", a => Softmax(a, "LogSoftmax"));
        t.Multi("aten.topk.default", a =>
        {
            var x = a.Self;
            a.Require(a.SelfMeta.DType, TensorDTypeSet.Numeric, "the tensor");
            var axis = Axis(a.Long("dim", -1), a.SelfMeta.Rank);
            var outputs = a.B.Node("TopK", [x, a.B.Vector(a.SymScalar("k"))], 2,
                Attr.Int("axis", axis), Attr.Int("largest", a.Bool("largest", true) ? 1 : 0), Attr.Int("sorted", 1));
            return [outputs[0], outputs[1]];
        });
    }

    /// <summary>The dims a reduction runs over (None or [] is every dim, as in ATen), in 0..rank-1.</summary>
    private static long[] ReducedAxes(LoweringNode a)
    {
        var rank = a.SelfMeta.Rank;
        var dims = a.Has("dim") ? a.Longs("dim") : [];
        return dims.Length == 0 ? [.. Enumerable.Range(0, rank).Select(d => (long)d)] : [.. dims.Select(d => Axis(d, Math.Max(rank, 1))).Distinct()];
    }

    /// <summary>A reduction in the result dtype (a dtype argument casts first, as ATen does).</summary>
    private static string Reduce(LoweringNode a, string op, TensorDTypeSet allowed)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, allowed, "the result");
        var x = a.Operand("self", dtype);
        if (a.SelfMeta.Rank == 0)
        {
            return x;
        }
        return a.B.Op(op, [x, a.B.Ints(ReducedAxes(a))], Attr.Int("keepdims", a.Bool("keepdim", false) ? 1 : 0));
    }

    private static object?[] ValuesAndIndices(LoweringNode a, string reduce, string arg)
    {
        a.Require(a.SelfMeta.DType, TensorDTypeSet.Numeric, "the tensor");
        var axis = Axis(a.Long("dim"), Math.Max(1, a.SelfMeta.Rank));
        var keep = a.Bool("keepdim", false) ? 1 : 0;
        var values = a.B.Op(reduce, [a.Self, a.B.Ints(axis)], Attr.Int("keepdims", keep));
        var indices = a.IsRead(1) ? a.B.Op(arg, [a.Self], Attr.Int("axis", axis), Attr.Int("keepdims", keep)) : null;
        return [values, indices];
    }

    /// <summary>argmax/argmin along a dim, or over the flattened tensor.</summary>
    private static string ArgReduce(LoweringNode a, string op)
    {
        a.Require(a.SelfMeta.DType, TensorDTypeSet.Numeric, "the tensor");
        if (a.SelfMeta.Rank == 0)
        {
            return a.B.Int(0);
        }
        if (a.OptionalLong("dim") is { } dim)
        {
            return a.B.Op(op, [a.Self], Attr.Int("axis", Axis(dim, Math.Max(1, a.SelfMeta.Rank))), Attr.Int("keepdims", a.Bool("keepdim", false) ? 1 : 0));
        }
        var flat = a.B.Op("Reshape", [a.Self, a.B.Ints(-1)]);
        return a.B.Op(op, [flat], Attr.Int("axis", 0), Attr.Int("keepdims", 0));
    }

    /// <summary>any as the max, all as the min, of the tensor's truth values (as int32; bools reduce as integers).</summary>
    private static string AnyAll(LoweringNode a, string op)
    {
        var truth = a.B.Op("Cast", [Boolean(a, "self")], Attr.Int("to", OnnxTypes.Of(TensorDType.I32)));
        var reduced = a.SelfMeta.Rank == 0 ? truth
            : a.B.Op(op, [truth, a.B.Ints(ReducedAxes(a))], Attr.Int("keepdims", a.Bool("keepdim", false) ? 1 : 0));
        return a.B.Op("Cast", [reduced], Attr.Int("to", OnnxTypes.Of(TensorDType.BOOL)));
    }

    /// <summary>var/std: the mean of squared deviations scaled by n / (n - correction), n the reduced elements.</summary>
    private static string Variance(LoweringNode a, bool root)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Float, "the result");
        var correction = a.Has("correction") ? a.Double("correction", 1) : a.Bool("unbiased", true) ? 1 : 0;
        var axes = a.B.Ints(ReducedAxes(a));
        var x = a.Self;
        var mean = a.B.Op("ReduceMean", [x, axes], Attr.Int("keepdims", 1));
        var deviation = a.B.Op("Sub", [x, mean]);
        var variance = a.B.Op("ReduceMean", [a.B.Op("Mul", [deviation, deviation]), axes], Attr.Int("keepdims", a.Bool("keepdim", false) ? 1 : 0));
        if (correction != 0)
        {
            var reduced = ReducedAxes(a);
            var meta = a.SelfMeta;
            string count;
            if (reduced.All(d => meta.Sizes[(int)d].IsStatic))
            {
                count = a.B.Scalar(reduced.Aggregate(1.0, (n, d) => n * meta.Sizes[(int)d].Value!.Value), dtype);
            }
            else
            {
                var sizes = a.B.Op("Gather", [a.B.Op("Shape", [x]), a.B.Ints(reduced)], Attr.Int("axis", 0));
                count = a.B.Op("Cast", [a.B.Op("ReduceProd", [sizes], Attr.Int("keepdims", 0))], Attr.Int("to", OnnxTypes.Of(dtype)));
            }
            var factor = a.B.Op("Div", [count, a.B.Op("Sub", [count, a.B.Scalar(correction, dtype)])]);
            variance = a.B.Op("Mul", [variance, factor]);
        }
        return root ? a.B.Op("Sqrt", [variance]) : variance;
    }

    /// <summary>linalg_vector_norm for ord 1, 2 and infinity.</summary>
    private static string VectorNorm(LoweringNode a)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Float, "the result");
        var x = a.Operand("self", dtype);
        var keep = Attr.Int("keepdims", a.Bool("keepdim", false) ? 1 : 0);
        var axes = a.B.Ints(ReducedAxes(a));
        return a.Double("ord", 2) switch
        {
            2 => a.B.Op("ReduceL2", [x, axes], keep),
            1 => a.B.Op("ReduceL1", [x, axes], keep),
            double.PositiveInfinity => a.B.Op("ReduceMax", [a.B.Op("Abs", [x]), axes], keep),
            var ord => throw a.Unsupported("ord", ord),
        };
    }

    private static string Softmax(LoweringNode a, string op)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Float, "the result");
        var rank = a.SelfMeta.Rank;
        var x = a.Operand("self", dtype);
        if (rank > 0)
        {
            return a.B.Op(op, [x], Attr.Int("axis", Axis(a.Long("dim"), rank)));
        }
        var vector = a.B.Op(op, [a.B.Op("Unsqueeze", [x, a.B.Ints(0)])], Attr.Int("axis", 0));
        return a.B.Op("Squeeze", [vector, a.B.Ints(0)]);
    }
}
