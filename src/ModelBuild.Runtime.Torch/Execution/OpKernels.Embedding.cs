using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Embedding bags and max-norm renormalization. TorchSharp has no functional embedding_bag; the bags are reduced here
/// with index_add / index_reduce over the bag each index belongs to, and the auxiliary outputs follow ATen's CPU kernel.
/// </summary>
public static partial class OpKernels
{
    private const long BagSum = 0;
    private const long BagMean = 1;
    private const long BagMax = 2;

    private static void AddEmbedding(KernelTable t)
    {
        t.Multi("aten._embedding_bag.default", EmbeddingBag);
        t.Multi("aten._embedding_bag_forward_only.default", EmbeddingBag);
        t.Multi("aten.embedding_bag.padding_idx", EmbeddingBag);
        t.Op("aten.embedding_renorm.default", a =>
        {
            var weight = a.Self;
            var (rows, _, _) = a.Tensor("indices").reshape(-1).unique();
            var picked = weight.index_select(0, rows);
            var norms = linalg.vector_norm(picked, a.Double("norm_type", 2), [1], keepdim: true);
            var maxNorm = a.Double("max_norm");
            var scaled = where(norms.gt(maxNorm), picked.mul(norms.add(1e-7).reciprocal().mul(maxNorm)), picked);
            return weight.index_copy(0, rows, scaled);
        });
    }

    /// <summary>(output, offset2bag, bag_size, max_indices) of ATen's CPU embedding_bag, for bags given by offsets.</summary>
    private static object?[] EmbeddingBag(NodeArguments a)
    {
        var weight = a.Tensor("weight");
        var indices = a.Tensor("indices");
        var offsets = a.Tensor("offsets");
        var mode = a.Long("mode", BagSum);
        var weights = a.OptionalTensor("per_sample_weights");
        var padding = a.OptionalLong("padding_idx") ?? -1;
        var bags = a.Bool("include_last_offset", false) ? offsets.size(0) - 1 : offsets.size(0);
        var count = indices.size(0);
        var positions = arange(count, ScalarType.Int64, indices.device);
        var bagOf = searchsorted(offsets.narrow(0, 0, bags).to(ScalarType.Int64), positions, false, true, null).sub(1);
        var keep = padding >= 0 ? indices.ne(padding) : ones_like(indices, ScalarType.Bool);
        var rows = weight.index_select(0, indices);
        if (weights is not null)
        {
            rows = rows.mul(weights.unsqueeze(1));
        }

        var sizes = zeros(bags, ScalarType.Int64, indices.device).index_add(0, bagOf, keep.to(ScalarType.Int64), 1);
        var empty = zeros([bags, weight.size(1)], weight.dtype, weight.device);
        Tensor output;
        var maxIndices = zeros(bags, ScalarType.Int64, indices.device);
        if (mode == BagMax)
        {
            var kept = keep.nonzero().squeeze(1);
            output = IndexReduce(empty, bagOf.index_select(0, kept), rows.index_select(0, kept), "amax", includeSelf: false);
            // The first row reaching the bag's maximum, per feature; -1 for an empty bag.
            var reaches = rows.eq(output.index_select(0, bagOf)).logical_and(keep.unsqueeze(1));
            var first = where(reaches, positions.unsqueeze(1).expand(rows.shape), count);
            var best = IndexReduce(full([bags, weight.size(1)], count, ScalarType.Int64, indices.device), bagOf, first, "amin", includeSelf: true);
            var padded = cat([indices, full(1, -1L, indices.dtype, indices.device)]);
            maxIndices = padded.index_select(0, best.reshape(-1)).reshape(best.shape);
        }
        else
        {
            output = empty.index_add(0, bagOf, rows.mul(keep.unsqueeze(1).to(rows.dtype)), 1);
            if (mode == BagMean)
            {
                output = output.div(sizes.clamp_min(1).unsqueeze(1).to(output.dtype));
            }
        }

        // ATen skips offset2bag (and bag sizes) on its fast path: a plain sum without padding.
        var fastSum = mode == BagSum && padding < 0;
        var offset2bag = fastSum ? zeros(0, ScalarType.Int64, indices.device) : bagOf;
        var bagSize = fastSum ? zeros(bags, ScalarType.Int64, indices.device) : sizes;
        return [output, offset2bag, bagSize, maxIndices];
    }
}
