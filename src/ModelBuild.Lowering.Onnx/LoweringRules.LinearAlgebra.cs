namespace ModelBuild.Lowering.Onnx;

/// <summary>Matrix products (ONNX's MatMul has numpy's semantics, as torch.matmul).</summary>
internal static partial class LoweringRules
{
    private static void AddLinearAlgebra(RuleTable t)
    {
        t.Op("aten.linear.default", Linear);
        t.Op("aten.addmm.default", a =>
        {
            RequireFloat(a);
            return a.B.Op("Gemm", [a.Tensor("mat1"), a.Tensor("mat2"), a.Self], Attr.Float("alpha", a.Double("alpha", 1)), Attr.Float("beta", a.Double("beta", 1)));
        });
        t.Op("aten.mm.default", a => MatMul(a, a.Self, a.Tensor("mat2")));
        t.Op("aten.bmm.default", a => MatMul(a, a.Self, a.Tensor("mat2")));
        t.Op("aten.matmul.default", a => MatMul(a, a.Self, a.Tensor("other")));
        t.Op("aten.baddbmm.default", a =>
        {
            var product = MatMul(a, a.Tensor("batch1"), a.Tensor("batch2"));
            var dtype = a.OutputDType;
            var alpha = a.Double("alpha", 1);
            var beta = a.Double("beta", 1);
            var scaled = alpha == 1 ? product : a.B.Op("Mul", [product, a.B.Scalar(alpha, dtype)]);
            // As in ATen, beta = 0 ignores self, even NaN in it.
            if (beta == 0)
            {
                return scaled;
            }
            var bias = beta == 1 ? a.Self : a.B.Op("Mul", [a.Self, a.B.Scalar(beta, dtype)]);
            return a.B.Op("Add", [bias, scaled]);
        });
    }

    private static void RequireFloat(LoweringNode a) => a.Require(a.OutputDType, TensorDTypeSet.Float, "the result");

    private static string MatMul(LoweringNode a, string x, string y)
    {
        RequireFloat(a);
        return a.B.Op("MatMul", [x, y]);
    }

    /// <summary>
    /// linear: Gemm for a 2-D input, else MatMul with the transposed weight and an Add; ONNX Runtime folds the transpose
    /// of a weight offline and fuses the Add.
    /// </summary>
    private static string Linear(LoweringNode a)
    {
        RequireFloat(a);
        var input = a.Tensor("input");
        var weight = a.Tensor("weight");
        var bias = a.OptionalTensor("bias");
        if (a.Meta("input").Rank == 2 && a.Meta("weight").Rank == 2)
        {
            return a.B.Op("Gemm", bias is null ? [input, weight] : [input, weight, bias], Attr.Int("transB", 1));
        }
        var transposed = a.Meta("weight").Rank == 2 ? a.B.Op("Transpose", [weight], Attr.Ints("perm", [1, 0])) : weight;
        var product = a.B.Op("MatMul", [input, transposed]);
        return bias is null ? product : a.B.Op("Add", [product, bias]);
    }
}
