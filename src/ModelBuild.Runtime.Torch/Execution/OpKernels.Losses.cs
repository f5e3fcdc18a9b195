using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Loss functions; ATen's reduction argument is 0 none, 1 mean, 2 sum, the order of TorchSharp's Reduction.</summary>
public static partial class OpKernels
{
    private static void AddLosses(KernelTable t)
    {
        t.Op("aten.mse_loss.default", a => F.mse_loss(a.Self, a.Tensor("target"), Reduction(a)));
        t.Op("aten.l1_loss.default", a => F.l1_loss(a.Self, a.Tensor("target"), Reduction(a)));
        t.Op("aten.smooth_l1_loss.default", a => F.smooth_l1_loss(a.Self, a.Tensor("target"), Reduction(a), a.Double("beta", 1)));
        t.Op("aten.huber_loss.default", a => F.huber_loss(a.Self, a.Tensor("target"), a.Double("delta", 1), Reduction(a)));
        t.Op("aten.kl_div.default", a => F.kl_div(a.Self, a.Tensor("target"), a.Bool("log_target", false), Reduction(a)));
        t.Op("aten.soft_margin_loss.default", a => F.soft_margin_loss(a.Self, a.Tensor("target"), Reduction(a)));
        t.Op("aten.cosine_embedding_loss.default", a =>
            F.cosine_embedding_loss(a.Tensor("input1"), a.Tensor("input2"), a.Tensor("target"), a.Double("margin", 0), Reduction(a)));
        t.Op("aten.poisson_nll_loss.default", a => F.poisson_nll_loss(a.Tensor("input"), a.Tensor("target"), a.Bool("log_input", true),
            a.Bool("full", false), (float)a.Double("eps", 1e-8), Reduction(a)));
    }

    private static nn.Reduction Reduction(NodeArguments a) => (nn.Reduction)a.Long("reduction", 1);
}
