namespace ModelBuild.Compiler.Passes;

/// <summary>
/// The operators an fp16 or bf16 engine still runs in fp32 (its "fp32 islands", see <see cref="PrecisionLowering"/>):
/// those PyTorch's CUDA autocast runs in fp32 (<c>aten/src/ATen/autocast_mode.cpp</c>: its fp32, fp32_set_opt_dtype and
/// fp32_append_dtype lists), and the normalizations. The table names ATen operators; a name covers every overload
/// (<c>sum</c> is <c>sum.default</c> and <c>sum.dim_IntList</c>). docs/precision.md shows it with the measurements.
/// </summary>
public static class Fp32Operators
{
    private const string AtenPrefix = "torch.ops.aten.";

    /// <summary>Each group of operators with why it runs in fp32.</summary>
    private static readonly (string Why, string[] Operators)[] Table =
    [
        ("Normalizations: a mean and a variance over a channel or a row, then a division by sqrt(variance + eps); in 16 bits "
            + "the variance and eps round badly. Autocast lists layer and group norm; batch norm is not listed because eager "
            + "keeps its parameters and running statistics fp32 and cuDNN computes it in fp32, which the island reproduces.",
            ["batch_norm", "native_batch_norm", "_native_batch_norm_legit", "_native_batch_norm_legit_no_training",
             "_batch_norm_no_update", "_batch_norm_with_update", "instance_norm", "layer_norm", "native_layer_norm",
             "group_norm", "native_group_norm", "rms_norm"]),
        ("Softmax: exp of the inputs and a sum over the row (autocast: fp32_set_opt_dtype).",
            ["softmax", "_softmax", "log_softmax", "_log_softmax", "_safe_softmax"]),
        ("Reductions that accumulate: a sum of many terms drops the small ones, a product or a square leaves fp16's range "
            + "(65504). Autocast lists sum, prod, cumsum, cumprod, logsumexp and the norms; var and std are squares.",
            ["sum", "nansum", "prod", "cumsum", "cumprod", "logsumexp", "logcumsumexp", "var", "std", "var_mean", "std_mean",
             "norm", "linalg_vector_norm", "linalg_matrix_norm", "linalg_norm", "frobenius_norm", "nuclear_norm", "dist",
             "cdist", "pdist", "renorm", "cosine_similarity"]),
        ("Exponentials, logarithms, powers and reciprocals: exp leaves fp16's range above 11, a reciprocal or rsqrt of a "
            + "small value does too, and log, acos, asin and erfinv lose their relative precision where they are steep "
            + "(autocast: fp32).",
            ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow", "rsqrt", "reciprocal", "softplus", "acos", "asin",
             "cosh", "sinh", "tan", "erfinv"]),
        ("Losses: reductions of differences, squares and logs (autocast: fp32).",
            ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "nll_loss2d", "nll_loss_forward",
             "nll_loss2d_forward", "cross_entropy_loss", "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits",
             "poisson_nll_loss", "soft_margin_loss", "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
             "multilabel_margin_loss", "multi_margin_loss", "triplet_margin_loss"]),
    ];

    private static readonly HashSet<string> Names = [.. Table.SelectMany(g => g.Operators)];

    /// <summary>Whether a node of <paramref name="target"/> (<c>torch.ops.aten.softmax.int</c>) runs in fp32 in an fp16/bf16 engine.</summary>
    public static bool RunsInFp32(string target)
    {
        if (!target.StartsWith(AtenPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        var name = target.AsSpan(AtenPrefix.Length);
        var dot = name.IndexOf('.');
        return Names.Contains((dot < 0 ? name : name[..dot]).ToString());
    }
}
