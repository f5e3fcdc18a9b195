using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Matrix decompositions and solvers (torch.linalg), through the same LAPACK routines PyTorch calls. Where ATen also
/// returns the factorization it used (LU and pivots) or an error code (info), the kernels return them too; info is 0,
/// since libtorch raises on a failed factorization.
/// </summary>
public static partial class OpKernels
{
    private static void AddDecompositions(KernelTable t)
    {
        t.Multi("aten._linalg_svd.default", a =>
        {
            var (u, s, vh) = linalg.svd(a.Tensor("A"), a.Bool("full_matrices", false));
            return a.Bool("compute_uv", true) ? [u, s, vh] : [Nothing(s), s, Nothing(s)];
        });
        t.Multi("aten.linalg_svd.default", a =>
        {
            var (u, s, vh) = linalg.svd(a.Tensor("A"), a.Bool("full_matrices", true));
            return [u, s, vh];
        });
        t.Op("aten.linalg_svdvals.default", a => linalg.svdvals(a.Tensor("A")));
        t.Multi("aten.linalg_qr.default", a =>
        {
            var (q, r) = linalg.qr(a.Tensor("A"), (a.OptionalString("mode") ?? "reduced") switch
            {
                "complete" => linalg.QRMode.Complete,
                "r" => linalg.QRMode.R,
                _ => linalg.QRMode.Reduced,
            });
            return [q, r];
        }, n => n.OneOf("mode", "reduced", "complete", "r"));
        t.Multi("aten._linalg_eigh.default", a =>
        {
            var (values, vectors) = linalg.eigh(a.Tensor("A"), Triangle(a));
            return a.Bool("compute_v", true) ? [values, vectors] : [values, Nothing(values)];
        });
        t.Op("aten.linalg_eigvalsh.default", a => linalg.eigvalsh(a.Self, Triangle(a)));

        t.Op("aten.linalg_det.default", a => linalg.det(a.Tensor("A")));
        t.Multi("aten._linalg_det.default", a =>
        {
            var matrix = a.Tensor("A");
            var (lu, pivots) = linalg.lu_factor(matrix);
            return [linalg.det(matrix), lu, pivots];
        });
        t.Multi("aten._linalg_slogdet.default", a =>
        {
            var matrix = a.Tensor("A");
            var (sign, logabsdet) = linalg.slogdet(matrix);
            var (lu, pivots) = linalg.lu_factor(matrix);
            return [sign, logabsdet, lu, pivots];
        });
        t.Unary("aten.logdet.default", x => x.logdet());
        t.Op("aten.linalg_inv.default", a => linalg.inv(a.Tensor("A")));
        t.Multi("aten.linalg_inv_ex.default", a =>
        {
            var matrix = a.Tensor("A");
            return [linalg.inv(matrix), Info(matrix, 2)];
        });
        t.Op("aten.linalg_solve.default", a => linalg.solve(a.Tensor("A"), a.Tensor("B"), a.Bool("left", true)));
        t.Multi("aten._linalg_solve_ex.default", a =>
        {
            var matrix = a.Tensor("A");
            var (lu, pivots) = linalg.lu_factor(matrix);
            return [linalg.solve(matrix, a.Tensor("B"), a.Bool("left", true)), lu, pivots, Info(matrix, 2)];
        });
        t.Op("aten.linalg_solve_triangular.default", a => linalg.solve_triangular(
            a.Self, a.Tensor("B"), a.Bool("upper", false), a.Bool("left", true), a.Bool("unitriangular", false), null));

        t.Op("aten.linalg_cholesky.default", a => Cholesky(a.Self, a.Bool("upper", false)));
        t.Multi("aten.linalg_cholesky_ex.default", a => [Cholesky(a.Self, a.Bool("upper", false)), Info(a.Self, 2)]);
        t.Op("aten.cholesky.default", a => Cholesky(a.Self, a.Bool("upper", false)));
        t.Op("aten.cholesky_inverse.default", a => cholesky_inverse(a.Self, a.Bool("upper", false)));
        t.Op("aten.cholesky_solve.default", a => cholesky_solve(a.Self, a.Tensor("input2"), a.Bool("upper", false)));

        t.Multi("aten.linalg_lu_factor_ex.default", a =>
        {
            var matrix = a.Tensor("A");
            var (lu, pivots) = linalg.lu_factor(matrix, a.Bool("pivot", true));
            return [lu, pivots, Info(matrix, 2)];
        });
        t.Multi("aten._lu_with_info.default", a =>
        {
            var (lu, pivots) = linalg.lu_factor(a.Self, a.Bool("pivot", true));
            return [lu, pivots, Info(a.Self, 2)];
        });
        t.Op("aten.linalg_lu_solve.default", a => linalg.lu_solve(
            a.Tensor("LU"), a.Tensor("pivots"), a.Tensor("B"), a.Bool("left", true), a.Bool("adjoint", false), null));
        t.Op("aten.lu_solve.default", a => linalg.lu_solve(a.Tensor("LU_data"), a.Tensor("LU_pivots"), a.Self, true, false, null));
        t.Op("aten.linalg_ldl_solve.default", a => linalg.ldl_solve(a.Tensor("LD"), a.Tensor("pivots"), a.Tensor("B"), a.Bool("hermitian", false)));
        t.Op("aten.linalg_householder_product.default", a => linalg.householder_product(a.Tensor("input"), a.Tensor("tau")));
        t.Op("aten.ormqr.default", a => ormqr(a.Self, a.Tensor("input2"), a.Tensor("input3"), a.Bool("left", true), a.Bool("transpose", false)));

        t.Unary("aten.linalg_matrix_exp.default", x => linalg.matrix_exp(x));
        t.Unary("aten.matrix_exp.default", x => linalg.matrix_exp(x));
        t.Op("aten.linalg_matrix_power.default", a => a.Self.matrix_power((int)a.Long("n")));
        t.Op("aten.linalg_pinv.atol_rtol_tensor", a => Tolerances(a, a.Self) is var (atol, rtol) && atol is null
            ? linalg.pinv(a.Self, (double?)null, null, a.Bool("hermitian", false))
            : linalg.pinv(a.Self, atol!, rtol, a.Bool("hermitian", false)));
        t.Op("aten.linalg_matrix_rank.atol_rtol_tensor", a => Tolerances(a, a.Tensor("input")) is var (atol, rtol) && atol is null
            ? linalg.matrix_rank(a.Tensor("input"), (double?)null, null, a.Bool("hermitian", false))
            : linalg.matrix_rank(a.Tensor("input"), atol!, rtol, a.Bool("hermitian", false)));
        t.Op("aten.linalg_matrix_rank.atol_rtol_float", a => linalg.matrix_rank(a.Self, a.OptionalDouble("atol"), a.OptionalDouble("rtol"), a.Bool("hermitian", false)));
        t.Op("aten.linalg_tensorinv.default", a => linalg.tensorinv(a.Self, a.Long("ind", 2)));
        t.Op("aten.linalg_tensorsolve.default", a => linalg.tensorsolve(a.Self, a.Tensor("other"), a.OptionalLongs("dims") ?? []));
        t.Op("aten.linalg_vander.default", a => linalg.vander(a.Tensor("x"), a.OptionalLong("N")));
    }

    /// <summary>What ATen returns for an output it did not compute: an empty tensor.</summary>
    private static Tensor Nothing(Tensor like) => empty(0, like.dtype, like.device);

    /// <summary>LAPACK's info per matrix (int32, 0 = success) over the batch dims.</summary>
    private static Tensor Info(Tensor matrices, int matrixDims) =>
        zeros(matrices.shape[..^matrixDims], ScalarType.Int32, matrices.device);

    /// <summary>atol and rtol tensors; with rtol alone atol is 0 (ATen's rule), with neither both stay null for the defaults.</summary>
    private static (Tensor? Atol, Tensor? Rtol) Tolerances(NodeArguments a, Tensor like)
    {
        var atol = a.OptionalTensor("atol");
        var rtol = a.OptionalTensor("rtol");
        return (atol ?? (rtol is null ? null : zeros([], rtol.dtype, like.device)), rtol);
    }

    private static char Triangle(NodeArguments a) => (a.OptionalString("UPLO") ?? "L")[0];

    private static Tensor Cholesky(Tensor x, bool upper)
    {
        var lower = linalg.cholesky(x);
        return upper ? lower.transpose(-2, -1) : lower;
    }
}
