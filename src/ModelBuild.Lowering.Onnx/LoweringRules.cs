using System.Collections.Frozen;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// The rule of every operator target that lowers to ONNX, in the training IR and the core ATen IR, grouped by family
/// like the TorchSharp kernels. Rules read arguments by schema name and return the ONNX value of each output.
/// </summary>
internal static partial class LoweringRules
{
    public static FrozenDictionary<string, Rule> Build()
    {
        var table = new RuleTable();
        AddElementwise(table);
        AddShape(table);
        AddReductions(table);
        AddFactories(table);
        AddLinearAlgebra(table);
        AddNeuralNet(table);
        AddRecurrent(table);
        AddSymbolic(table);
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>A rule with one output.</summary>
    private static Rule One(Func<LoweringNode, string> rule) => a => [rule(a)];

    /// <summary>The category of a dtype in PyTorch's type promotion: bool, integer, floating.</summary>
    private static int Category(TensorDType dtype) => dtype == TensorDType.BOOL ? 0 : OnnxTypes.IsFloat(dtype) ? 2 : 1;

    /// <summary>
    /// The dtype PyTorch computes a binary operation of <paramref name="left"/> (a tensor) and <paramref name="right"/>
    /// (a tensor or a scalar) in: a dimensioned tensor's dtype wins over a 0-d tensor's or a scalar's of the same
    /// category; a higher category wins (a float scalar makes an int tensor float32).
    /// </summary>
    private static TensorDType CommonDType(LoweringNode a, string left, string right)
    {
        var l = a.ScalarKind(left);
        var r = a.ScalarKind(right);
        var lRank = a.IsTensor(left) ? a.Meta(left).Rank : -1;
        var rRank = a.IsTensor(right) ? a.Meta(right).Rank : -1;
        if (Category(l) != Category(r))
        {
            var (high, highRank) = Category(l) > Category(r) ? (l, lRank) : (r, rRank);
            var low = Category(l) > Category(r) ? rRank : lRank;
            // A scalar of a higher category than the tensor takes its category's default dtype.
            return highRank >= 0 || low < 0 ? high : Category(high) == 2 ? TensorDType.F32 : TensorDType.I64;
        }
        if (lRank > 0 && rRank <= 0)
        {
            return l;
        }
        if (rRank > 0 && lRank <= 0)
        {
            return r;
        }
        return Wider(l, r);
    }

    private static TensorDType Wider(TensorDType a, TensorDType b) => a.ElementSize() >= b.ElementSize() ? a : b;

    /// <summary>Axis in 0..rank-1.</summary>
    private static long Axis(long dim, int rank) => dim < 0 ? dim + rank : dim;

    /// <summary>Rules by full target name; <c>aten.x.y</c> registers <c>torch.ops.aten.x.y</c>.</summary>
    private sealed class RuleTable : Dictionary<string, Rule>
    {
        public RuleTable()
            : base(StringComparer.Ordinal)
        {
        }

        public void Multi(string target, Rule rule) =>
            Add(target.StartsWith("aten.", StringComparison.Ordinal) ? "torch.ops." + target : target, rule);

        public void Op(string target, Func<LoweringNode, string> rule) => Multi(target, One(rule));
    }
}
