using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// More kernels that only arrange data: strided and diagonal views, the copying forms of views (<c>view_copy</c>),
/// broadcasting, stacking, and the factories of uninitialised memory (made zero, as <c>empty</c> is).
/// </summary>
public static partial class OpKernels
{
    private static void AddLayout(KernelTable t)
    {
        t.Op("aten.as_strided.default", a => a.Self.as_strided(a.Longs("size"), a.Longs("stride"), a.OptionalLong("storage_offset") ?? a.Self.storage_offset()));
        t.Op("aten.as_strided_copy.default", a => a.Self.as_strided(a.Longs("size"), a.Longs("stride"), a.OptionalLong("storage_offset") ?? a.Self.storage_offset()).clone());
        t.Op("aten.diagonal.default", a => a.Self.diagonal(a.Long("offset", 0), a.Long("dim1", 0), a.Long("dim2", 1)));
        t.Op("aten.linalg_diagonal.default", a => a.Tensor("A").diagonal(a.Long("offset", 0), a.Long("dim1", -2), a.Long("dim2", -1)));
        t.Op("aten.unfold.default", a => a.Self.unfold(a.Long("dimension"), a.Long("size"), a.Long("step")));
        t.Op("aten.unfold_copy.default", a => a.Self.unfold(a.Long("dimension"), a.Long("size"), a.Long("step")).clone());
        t.Op("aten.view_copy.default", a => a.Self.reshape(a.Longs("size")).clone());
        t.Op("aten.permute_copy.default", a => a.Self.permute(a.Longs("dims")).contiguous());
        t.Op("aten.narrow_copy.default", a => a.Self.narrow(a.Long("dim"), a.Long("start"), a.Long("length")).clone());
        t.Unary("aten.alias_copy.default", x => x.clone());
        t.Multi("aten.unbind_copy.int", a => [a.Self.unbind(a.Long("dim", 0)).Select(x => x.clone()).ToArray()]);
        t.Op("aten.copy.default", a =>
        {
            var self = a.Self;
            return a.Tensor("src").to(self.dtype, self.device).expand(self.shape).clone();
        });
        t.Op("aten.fill.Scalar", a => full_like(a.Self, a.Scalar("value")));
        t.Op("aten.resize.default", a => Resized(a.Self, a.Longs("size")));
        t.Op("aten.resize_as.default", a => Resized(a.Self, a.Tensor("the_template").shape));

        t.Unary("aten.mT.default", x => x.transpose(-2, -1));
        t.Unary("aten.mH.default", x => x.transpose(-2, -1));
        t.Unary("aten.matrix_H.default", x => x.transpose(0, 1));
        t.Unary("aten.numpy_T.default", x => x.permute([.. Enumerable.Range(0, (int)x.dim()).Reverse().Select(d => (long)d)]));
        t.Unary("aten.fliplr.default", x => x.fliplr());
        t.Op("aten.fft_fftshift.default", a => Shifted(a.Self, a.OptionalLongs("dim"), inverse: false));
        t.Op("aten.fft_ifftshift.default", a => Shifted(a.Self, a.OptionalLongs("dim"), inverse: true));
        t.Op("aten.tile.default", a => a.Self.tile(a.Longs("dims")));
        t.Op("aten.broadcast_to.default", a => a.Self.expand(a.Longs("size")));
        t.Multi("aten.broadcast_tensors.default", a => [broadcast_tensors(a.Tensors("tensors")).ToArray()]);
        t.Unary("aten.atleast_1d.default", x => x.dim() >= 1 ? x.alias() : x.reshape(1));
        t.Unary("aten.atleast_2d.default", x => AtLeast(x, 2));
        t.Unary("aten.atleast_3d.default", x => AtLeast(x, 3));
        t.Multi("aten.atleast_1d.Sequence", a => [a.Tensors("tensors").Select(x => AtLeast(x, 1)).ToArray()]);
        t.Op("aten.hstack.default", a => hstack(a.Tensors("tensors")));
        t.Op("aten.column_stack.default", a => column_stack(a.Tensors("tensors")));
        t.Multi("aten.unsafe_chunk.default", a => [a.Self.chunk(a.Long("chunks"), a.Long("dim", 0))]);
        t.Multi("aten.unsafe_split.Tensor", a => [a.Self.split(a.Long("split_size"), (int)a.Long("dim", 0))]);
        t.Op("aten.repeat_interleave.self_Tensor", a => a.Self.repeat_interleave(a.Tensor("repeats"), a.OptionalLong("dim"), a.OptionalLong("output_size")));
        t.Op("aten.repeat_interleave.self_int", a => a.Self.repeat_interleave(a.Long("repeats"), a.OptionalLong("dim"), a.OptionalLong("output_size")));
        t.Op("aten.repeat_interleave.Tensor", a =>
        {
            var repeats = a.Tensor("repeats");
            return arange(repeats.size(0), repeats.dtype, repeats.device).repeat_interleave(repeats, 0, a.OptionalLong("output_size"));
        });

        t.Op("aten.empty_strided.default", a => zeros(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.empty_permuted.default", a => zeros(a.Longs("size"), a.OptionalDType() ?? get_default_dtype(), a.Device()));
        t.Op("aten.new_empty_strided.default", a => zeros(a.Longs("size"), a.OptionalDType() ?? a.Self.dtype, LikeDevice(a)));
    }

    /// <summary>atleast_2d/3d: a 0-dim tensor becomes [1, 1(, 1)], a vector [1, n(, 1)], a matrix [m, n, 1] (NumPy's rules).</summary>
    private static Tensor AtLeast(Tensor x, int rank) => (x.dim(), rank) switch
    {
        var (have, want) when have >= want => x.alias(),
        (0, _) => x.reshape([.. Enumerable.Repeat(1L, rank)]),
        (1, 2) => x.unsqueeze(0),
        (1, 3) => x.reshape(1, x.size(0), 1),
        _ => x.unsqueeze(-1),
    };

    /// <summary>fftshift: a roll by half of each dim (all dims without a list) that puts frequency zero in the middle; ifftshift undoes it.</summary>
    private static Tensor Shifted(Tensor x, long[]? dims, bool inverse)
    {
        dims ??= [.. Enumerable.Range(0, (int)x.dim()).Select(d => (long)d)];
        var shifts = dims.Select(d => x.size((int)d) / 2 * (inverse ? -1 : 1)).ToArray();
        return x.roll(shifts, dims);
    }

    /// <summary>Functional resize: the elements in order, cut or extended (with zeros, where ATen leaves memory uninitialised).</summary>
    private static Tensor Resized(Tensor x, long[] size)
    {
        var count = size.Aggregate(1L, (n, d) => n * d);
        var flat = x.reshape(-1);
        var data = count <= flat.numel() ? flat.narrow(0, 0, count) : cat([flat, zeros(count - flat.numel(), x.dtype, x.device)]);
        return data.reshape(size).clone();
    }
}
