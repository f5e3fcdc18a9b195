using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Execution;

/// <summary>Matrix products.</summary>
public static partial class OpKernels
{
    private static void AddLinearAlgebra(KernelTable t)
    {
        t.Op("aten.linear.default", a => F.linear(a.Tensor("input"), a.Tensor("weight"), a.OptionalTensor("bias")));
        t.Op("aten.addmm.default", a => a.Self.addmm(a.Tensor("mat1"), a.Tensor("mat2"), (float)a.Double("beta", 1), (float)a.Double("alpha", 1)));
        t.Op("aten.baddbmm.default", a => a.Self.baddbmm(a.Tensor("batch1"), a.Tensor("batch2"), (float)a.Double("beta", 1), (float)a.Double("alpha", 1)));
        t.Op("aten.mm.default", a => a.Self.mm(a.Tensor("mat2")));
        t.Op("aten.bmm.default", a => a.Self.bmm(a.Tensor("mat2")));
        t.Op("aten.matmul.default", a => a.Self.matmul(a.Tensor("other")));
    }
}
