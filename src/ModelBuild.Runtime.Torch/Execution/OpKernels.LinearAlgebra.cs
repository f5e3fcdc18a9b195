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
        t.Op("aten.matmul.default", a => a.Self.matmul(a.Tensor("other")));
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
