using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// Operators that create tensors: the dtype is the one the graph records for the output (ATen's inference included);
/// sizes may be computed at run time (sym-ints); devices do not apply on the CPU.
/// </summary>
internal static partial class LoweringRules
{
    private static void AddFactories(RuleTable t)
    {
        t.Op("aten.arange.default", a => Arange(a, null, "end", null));
        t.Op("aten.arange.start", a => Arange(a, "start", "end", null));
        t.Op("aten.arange.start_step", a => Arange(a, "start", "end", "step"));
        t.Op("aten.full.default", a => FillWith(a, a.SymVector("size"), "fill_value"));
        t.Op("aten.new_full.default", a => FillWith(a, a.SymVector("size"), "fill_value"));
        t.Op("aten.full_like.default", a => FillWith(a, a.B.Op("Shape", [a.Self]), "fill_value"));
        foreach (var (name, value) in new[] { ("zeros", 0L), ("ones", 1L), ("empty", 0L) })
        {
            var overload = name == "empty" ? "memory_format" : "default";
            t.Op($"aten.{name}.{overload}", a => Fill(a, a.SymVector("size"), value, a.OutputDType));
            t.Op($"aten.new_{name}.default", a => Fill(a, a.SymVector("size"), value, a.OutputDType));
            t.Op($"aten.{name}_like.default", a => Fill(a, a.B.Op("Shape", [a.Self]), value, a.OutputDType));
        }
        t.Op("aten.scalar_tensor.default", a => a.Operand("s", a.OutputDType));
    }

    /// <summary>A tensor of <paramref name="shape"/> (a 1-D int64 value) filled with <paramref name="value"/>.</summary>
    private static string Fill(LoweringNode a, string shape, long value, TensorDType dtype)
    {
        var element = OnnxGraphBuilder.Tensor("value", dtype, [1], OnnxTypes.Element(value, dtype));
        return a.B.Op("ConstantOfShape", [shape], Attr.Tensor("value", element));
    }

    /// <summary>A fill with the value of argument <paramref name="fill"/>: a number as ConstantOfShape, a computed size broadcast.</summary>
    private static string FillWith(LoweringNode a, string shape, string fill)
    {
        var dtype = a.OutputDType;
        if (a.IsTensor(fill) || a.IsSymbolic(fill))
        {
            return a.B.Op("Expand", [a.Operand(fill, dtype), shape]);
        }
        var bytes = a.ScalarKind(fill) == TensorDType.F32 ? OnnxTypes.Element(a.Double(fill, 0), dtype) : OnnxTypes.Element(a.Long(fill), dtype);
        return a.B.Op("ConstantOfShape", [shape], Attr.Tensor("value", OnnxGraphBuilder.Tensor("value", dtype, [1], bytes)));
    }

    /// <summary>arange as Range over the result dtype; computed bounds are sym-ints.</summary>
    private static string Arange(LoweringNode a, string? start, string end, string? step)
    {
        var dtype = a.OutputDType;
        a.Require(dtype, TensorDTypeSet.Numeric, "the result");
        var from = start is not null && a.Has(start) ? a.Operand(start, dtype) : a.B.Scalar(0L, dtype);
        var by = step is not null && a.Has(step) ? a.Operand(step, dtype) : a.B.Scalar(1L, dtype);
        return a.B.Op("Range", [from, a.Operand(end, dtype), by]);
    }
}
