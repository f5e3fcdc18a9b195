using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>Kernels that move, select, join and split data without computing: views, indexing, copies and casts.</summary>
public static partial class OpKernels
{
    private static void AddShape(KernelTable t)
    {
        // view and reshape agree on every input view accepts; reshape also accepts the strides a kernel here may
        // produce differently from PyTorch (a copy where PyTorch had a view), so views never fail on layout.
        t.Op("aten.view.default", a => a.Self.reshape(a.Longs("size")));
        t.Op("aten._unsafe_view.default", a => a.Self.reshape(a.Longs("size")));
        t.Op("aten.reshape.default", a => a.Self.reshape(a.Longs("shape")));
        t.Op("aten.view_as.default", a => a.Self.reshape(a.Tensor("other").shape));
        t.Op("aten.reshape_as.default", a => a.Self.reshape(a.Tensor("other").shape));
        t.Op("aten.permute.default", a => a.Self.permute(a.Longs("dims")));
        t.Op("aten.transpose.int", a => a.Self.transpose(a.Long("dim0"), a.Long("dim1")));
        t.Unary("aten.t.default", x => x.t());
        t.Op("aten.unsqueeze.default", a => a.Self.unsqueeze(a.Long("dim")));
        t.Op("aten.squeeze.dim", a => a.Self.squeeze(a.Long("dim")));
        t.Op("aten.squeeze.dims", a => SqueezeDims(a.Self, a.Longs("dim")));
        t.Unary("aten.squeeze.default", x => x.squeeze());
        t.Op("aten.flatten.using_ints", a => a.Self.flatten(a.Long("start_dim", 0), a.Long("end_dim", -1)));
        // TorchSharp 0.107's unflatten refuses negative dims.
        t.Op("aten.unflatten.int", a => a.Self.unflatten(a.Long("dim") < 0 ? a.Long("dim") + a.Self.dim() : a.Long("dim"), a.Longs("sizes")));
        t.Op("aten.expand.default", a => a.Self.expand(a.Longs("size")));
        t.Op("aten.expand_as.default", a => a.Self.expand_as(a.Tensor("other")));
        t.Op("aten.cat.default", a => cat(a.Tensors("tensors"), a.Long("dim", 0)));
        t.Op("aten.concat.default", a => cat(a.Tensors("tensors"), a.Long("dim", 0)));
        t.Op("aten.stack.default", a => stack(a.Tensors("tensors"), a.Long("dim", 0)));
        t.Multi("aten.split.Tensor", a => [a.Self.split(a.Long("split_size"), (int)a.Long("dim", 0))]);
        t.Multi("aten.split_with_sizes.default", a => [a.Self.split(a.Longs("split_sizes"), a.Long("dim", 0))]);
        t.Multi("aten.chunk.default", a => [a.Self.chunk(a.Long("chunks"), a.Long("dim", 0))]);
        t.Multi("aten.unbind.int", a => [a.Self.unbind(a.Long("dim", 0))]);
        t.Op("aten.flip.default", a => a.Self.flip(a.Longs("dims")));
        t.Op("aten.roll.default", a => a.Longs("dims", []) is { Length: > 0 } dims
            ? roll(a.Self, a.Longs("shifts"), dims)
            : roll(a.Self, a.Longs("shifts")));
        t.Op("aten.select.int", a => a.Self.select(a.Long("dim"), a.Long("index")));
        t.Op("aten.slice.Tensor", Slice);
        t.Op("aten.narrow.default", a => a.Self.narrow(a.Long("dim"), a.Long("start"), a.Long("length")));
        t.Op("aten.index.Tensor", a => a.Self.index(a.OptionalTensors("indices")
            .Select(i => i is null ? TensorIndex.Colon : TensorIndex.Tensor(i)).ToArray()));
        t.Op("aten.index_select.default", a => a.Self.index_select(a.Long("dim"), a.Tensor("index")));
        t.Op("aten.gather.default", a => a.Self.gather(a.Long("dim"), a.Tensor("index")));
        t.Op("aten.repeat.default", a => a.Self.repeat(a.Longs("repeats")));
        t.Op("aten.tril.default", a => a.Self.tril(a.Long("diagonal", 0)));
        t.Op("aten.triu.default", a => a.Self.triu(a.Long("diagonal", 0)));
        t.Op("aten.constant_pad_nd.default", a => F.pad(a.Self, a.Longs("pad"), PaddingModes.Constant, a.Double("value", 0)));
        t.Op("aten.embedding.default", a => Embedding(a.Tensor("weight"), a.Tensor("indices")));

        t.Unary("aten.clone.default", x => x.clone());
        t.Unary("aten.contiguous.default", x => x.contiguous());
        t.Unary("aten.alias.default", x => x.alias());
        t.Unary("aten.detach.default", x => x.detach());
        t.Unary("aten.lift_fresh_copy.default", x => x.clone());
        t.Op("aten._to_copy.default", a => ToCopy(a, copy: true));
        t.Op("aten.to.dtype", a => ToCopy(a, a.Bool("copy", false)));
        t.Op("aten.to.dtype_layout", a => ToCopy(a, a.Bool("copy", false)));
        t.Op("aten.to.device", a => ToCopy(a, a.Bool("copy", false)));
        t.Op("aten.type_as.default", a => a.Self.to(a.Tensor("other").dtype));
    }

    private static Tensor SqueezeDims(Tensor x, long[] dims)
    {
        var rank = x.dim();
        var result = x.alias();
        foreach (var dim in dims.Select(d => d < 0 ? d + rank : d).Distinct().OrderDescending())
        {
            using var previous = result;
            result = previous.squeeze(dim);
        }

        return result;
    }

    private static Tensor Slice(NodeArguments a)
    {
        var x = a.Self;
        var dim = a.Long("dim", 0);
        var size = x.size((int)dim);
        var start = Clamp(a.OptionalLong("start") ?? 0, size);
        var end = Math.Max(start, Clamp(a.OptionalLong("end") ?? size, size));
        return x.slice(dim, start, end, a.Long("step", 1));

        static long Clamp(long index, long size) => Math.Clamp(index < 0 ? index + size : index, 0, size);
    }

    /// <summary>TorchSharp has no functional embedding: rows of the table picked by the flattened indices.</summary>
    private static Tensor Embedding(Tensor weight, Tensor indices)
    {
        using var flat = indices.reshape(-1);
        using var rows = weight.index_select(0, flat);
        return rows.reshape([.. indices.shape, weight.size(1)]);
    }

    private static Tensor ToCopy(NodeArguments a, bool copy)
    {
        var x = a.Self;
        var dtype = a.OptionalDType() ?? x.dtype;
        var device = a.Has("device") ? a.Device() : x.device;
        return x.to(dtype, device, copy);
    }
}
