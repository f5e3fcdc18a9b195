using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Kernels that write into a copy of a tensor at indices (the functional forms of scatter, index_put, the *_scatter
/// view writes) or look values up in sorted or indexed data. None writes its inputs.
/// </summary>
public static partial class OpKernels
{
    private static readonly string[] ScatterReductions = ["sum", "prod", "mean", "amax", "amin"];

    private static void AddIndexing(KernelTable t)
    {
        t.Op("aten.index_put.default", a => IndexPut(a.Self, a.OptionalTensors("indices"), a.Tensor("values"), a.Bool("accumulate", false)));
        t.Op("aten._unsafe_masked_index.default", a =>
        {
            var picked = a.Self.index(Indices(Clamped(a.Self, a.Tensors("indices"))));
            return where(a.Tensor("mask"), picked, ScalarTensor(a, "fill", a.Self.device).to(a.Self.dtype));
        });
        t.Op("aten._unsafe_masked_index_put_accumulate.default", a =>
        {
            var values = a.Tensor("values").masked_fill(a.Tensor("mask").logical_not(), 0);
            return IndexPut(a.Self, Clamped(a.Self, a.Tensors("indices")), values, accumulate: true);
        });
        t.Op("aten.scatter.src", a => a.Self.scatter(a.Long("dim"), a.Tensor("index"), a.Tensor("src")));
        t.Op("aten.scatter.value", a => a.Self.scatter(a.Long("dim"), a.Tensor("index"), ScatterValues(a)));
        t.Op("aten.scatter.reduce", a => ScatterReduce(a, a.Tensor("src"), ScatterReduction(a.OptionalString("reduce")), includeSelf: true),
            n => n.OneOf("reduce", "add", "multiply"));
        t.Op("aten.scatter.value_reduce", a => ScatterReduce(a, ScatterValues(a), ScatterReduction(a.OptionalString("reduce")), includeSelf: true),
            n => n.OneOf("reduce", "add", "multiply"));
        t.Op("aten.scatter_add.default", a => a.Self.scatter_add(a.Long("dim"), a.Tensor("index"), a.Tensor("src")));
        t.Op("aten.scatter_reduce.two", a => ScatterReduce(a, a.Tensor("src"), a.OptionalString("reduce")!, a.Bool("include_self", true)),
            n => n.OneOf("reduce", ScatterReductions));
        t.Op("aten.index_reduce.default", a =>
        {
            var dim = a.Long("dim");
            var (self, source) = a.Self.dim() == 0 ? (a.Self.reshape(1), a.Tensor("source").reshape(1)) : (a.Self, a.Tensor("source"));
            var reduced = IndexReduce(self.movedim([dim], [0]), a.Tensor("index"), source.movedim([dim], [0]),
                a.OptionalString("reduce")!, a.Bool("include_self", true));
            return reduced.movedim([0], [dim]).reshape(a.Self.shape);
        }, n => n.OneOf("reduce", "prod", "mean", "amax", "amin"));
        t.Op("aten.index_add.default", a => a.Self.index_add(a.Long("dim"), a.Tensor("index"), a.Tensor("source"), a.Scalar("alpha", 1)));
        t.Op("aten.index_copy.default", a => a.Self.index_copy(a.Long("dim"), a.Tensor("index"), a.Tensor("source")));
        t.Op("aten.masked_scatter.default", a => a.Self.masked_scatter(a.Tensor("mask"), a.Tensor("source")));
        t.Op("aten.put.default", a =>
        {
            var flat = a.Self.reshape(-1);
            var written = IndexPut(flat, [a.Tensor("index").reshape(-1)], a.Tensor("source").reshape(-1), a.Bool("accumulate", false));
            return written.reshape(a.Self.shape);
        });
        t.Op("aten.take.default", a => a.Self.take(a.Tensor("index")));
        t.Op("aten.take_along_dim.default", a => a.OptionalLong("dim") is { } dim
            ? take_along_dim(a.Self, a.Tensor("indices"), dim)
            : a.Self.reshape(-1).take_along_dim(a.Tensor("indices").reshape(-1)));

        t.Op("aten.slice_scatter.default", a => slice_scatter(a.Self, a.Tensor("src"), a.Long("dim", 0), a.OptionalLong("start"), a.OptionalLong("end"), a.Long("step", 1)));
        t.Op("aten.select_scatter.default", a => select_scatter(a.Self, a.Tensor("src"), a.Long("dim"), a.Long("index")));
        t.Op("aten.diagonal_scatter.default", a => diagonal_scatter(a.Self, a.Tensor("src"), a.Long("offset", 0), a.Long("dim1", 0), a.Long("dim2", 1)));
        t.Op("aten.as_strided_scatter.default", a =>
        {
            var result = a.Self.clone();
            result.as_strided(a.Longs("size"), a.Longs("stride"), a.OptionalLong("storage_offset") ?? 0).copy_(a.Tensor("src"));
            return result;
        });

        t.Op("aten.nonzero.default", a => a.Self.nonzero());
        t.Op("aten.nonzero_static.default", a =>
        {
            var found = a.Self.nonzero();
            var size = a.Long("size");
            var rows = found.size(0);
            if (rows >= size)
            {
                return found.narrow(0, 0, size);
            }

            var fill = full([size - rows, found.size(1)], a.Long("fill_value", -1), found.dtype, found.device);
            return cat([found, fill]);
        });
        t.Op("aten.searchsorted.Tensor", a => searchsorted(a.Tensor("sorted_sequence"), a.Self, a.Bool("out_int32", false),
            a.Bool("right", false) || a.OptionalString("side") == "right", a.OptionalTensor("sorter")));
        t.Op("aten.bucketize.Tensor", a => bucketize(a.Self, a.Tensor("boundaries"), a.Bool("out_int32", false), a.Bool("right", false)));
        t.Op("aten.histc.default", Histogram);
    }

    /// <summary>
    /// histc (TorchSharp's takes integer bounds): counts in bins equal parts of [min, max], or of the data's range when
    /// min = max (widened by 1 each way if that is empty too); values outside are not counted, max goes in the last bin.
    /// </summary>
    private static Tensor Histogram(NodeArguments a)
    {
        var x = a.Self.reshape(-1);
        var bins = a.Long("bins", 100);
        var (low, high) = (a.Double("min", 0), a.Double("max", 0));
        if (low == high && x.numel() > 0)
        {
            (low, high) = (x.min().to(ScalarType.Float64).item<double>(), x.max().to(ScalarType.Float64).item<double>());
        }

        if (low == high)
        {
            (low, high) = (low - 1, high + 1);
        }

        var inside = x.ge(low).logical_and(x.le(high));
        var bin = x.sub(low).mul(bins).div(high - low).floor().to(ScalarType.Int64).clamp(0, bins - 1);
        return zeros(bins, x.dtype, x.device).index_add(0, bin.masked_select(inside), ones_like(x).masked_select(inside), 1);
    }

    /// <summary>A copy of self with values written (or added, with accumulate) at the indices; None indices take whole dims.</summary>
    private static Tensor IndexPut(Tensor self, Tensor?[] indices, Tensor values, bool accumulate)
    {
        var result = self.clone();
        result.index_put_(values.to(self.dtype), Indices(indices), accumulate);
        return result;
    }

    private static TensorIndex[] Indices(Tensor?[] indices) =>
        [.. indices.Select(i => i is null ? TensorIndex.Colon : TensorIndex.Tensor(i))];

    /// <summary>Indices moved into range, for the masked ops whose masked-out positions may point anywhere.</summary>
    private static Tensor?[] Clamped(Tensor self, Tensor[] indices) =>
        [.. indices.Select((index, d) => index.clamp(-self.size(d), self.size(d) - 1))];

    /// <summary>scatter's scalar value as a tensor of the index's shape and self's dtype.</summary>
    private static Tensor ScatterValues(NodeArguments a) =>
        full(a.Tensor("index").shape, a.Scalar("value"), a.Self.dtype, a.Self.device);

    private static string ScatterReduction(string? reduce) => reduce == "multiply" ? "prod" : "sum";

    /// <summary>
    /// scatter_reduce through index_add / index_reduce on the flattened tensor: every element of index names one element
    /// of self (its position with dim replaced by the index), so the reduction becomes one over linear positions.
    /// </summary>
    private static Tensor ScatterReduce(NodeArguments a, Tensor src, string reduce, bool includeSelf)
    {
        var self = a.Self.contiguous();
        var index = a.Tensor("index");
        var dim = a.Long("dim");
        dim = dim < 0 ? dim + self.dim() : dim;
        var linear = zeros(index.shape, ScalarType.Int64, index.device);
        var stride = 1L;
        for (var d = self.dim() - 1; d >= 0; d--)
        {
            var coordinate = d == dim ? index : arange(index.size((int)d), ScalarType.Int64, index.device)
                .reshape([.. Enumerable.Range(0, (int)index.dim()).Select(k => k == d ? index.size((int)d) : 1L)]);
            linear = linear.add(coordinate.mul(stride));
            stride *= self.size((int)d);
        }

        var positions = linear.reshape(-1);
        var values = LeadingBlock(src, index.shape).reshape(-1).to(self.dtype);
        var flat = self.reshape(-1);
        return IndexReduce(flat, positions, values, reduce, includeSelf).reshape(self.shape);
    }

    /// <summary>
    /// index_reduce along dim 0 (TorchSharp has none): the source rows sorted by target, an inclusive segmented scan with
    /// the reduction (Hillis-Steele: log2(n) steps, deterministic, NaN-propagating for amax/amin), and the last row of
    /// each segment written to its target, combined with self's row when <paramref name="includeSelf"/>.
    /// </summary>
    private static Tensor IndexReduce(Tensor self, Tensor index, Tensor source, string reduce, bool includeSelf)
    {
        Func<Tensor, Tensor, Tensor> combine = reduce switch
        {
            "sum" or "mean" => (x, y) => x.add(y),
            "prod" => (x, y) => x.mul(y),
            "amax" => (x, y) => x.maximum(y),
            _ => (x, y) => x.minimum(y),
        };
        var (targets, order) = index.reshape(-1).sort(0, stable: true);
        var values = source.index_select(0, order).to(self.dtype);
        var count = targets.size(0);
        if (count == 0)
        {
            return self.clone();
        }

        var rowShape = Enumerable.Repeat(1L, (int)values.dim() - 1).ToArray();
        for (var offset = 1L; offset < count; offset *= 2)
        {
            var same = targets.narrow(0, offset, count - offset).eq(targets.narrow(0, 0, count - offset)).reshape([count - offset, .. rowShape]);
            var tail = values.narrow(0, offset, count - offset);
            var combined = where(same, combine(tail, values.narrow(0, 0, count - offset)), tail);
            values = cat([values.narrow(0, 0, offset), combined]);
        }

        var last = cat([targets.narrow(0, 1, count - 1).ne(targets.narrow(0, 0, count - 1)), ones(1, ScalarType.Bool, targets.device)]);
        var positions = targets.masked_select(last);
        var reduced = values.index_select(0, last.nonzero().squeeze(1));
        var current = self.index_select(0, positions);
        if (reduce == "mean")
        {
            var sizes = zeros(self.size(0), ScalarType.Float64, self.device)
                .index_add(0, targets, ones(count, ScalarType.Float64, self.device), 1).index_select(0, positions);
            var total = includeSelf ? reduced.add(current) : reduced;
            var divisor = includeSelf ? sizes.add(1) : sizes;
            reduced = total.div(divisor.reshape([positions.size(0), .. rowShape]));
            if (self.is_integral())
            {
                reduced = reduced.floor();
            }
        }
        else if (includeSelf)
        {
            reduced = combine(current, reduced);
        }

        return self.index_copy(0, positions, reduced.to(self.dtype));
    }

    /// <summary>The leading block of <paramref name="src"/> with <paramref name="shape"/> (scatter reads only that much of src).</summary>
    private static Tensor LeadingBlock(Tensor src, long[] shape)
    {
        var result = src;
        for (var d = 0; d < shape.Length; d++)
        {
            result = result.narrow(d, 0, shape[d]);
        }

        return result;
    }
}
