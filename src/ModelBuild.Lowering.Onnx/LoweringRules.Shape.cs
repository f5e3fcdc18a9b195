using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Lowering.Onnx;

/// <summary>Operators that move, select, join and split data: views, indexing, copies and casts.</summary>
internal static partial class LoweringRules
{
    private static void AddShape(RuleTable t)
    {
        t.Op("aten.view.default", a => Reshape(a, a.Self, () => Sizes(a, "size")));
        t.Op("aten._unsafe_view.default", a => Reshape(a, a.Self, () => Sizes(a, "size")));
        t.Op("aten.reshape.default", a => Reshape(a, a.Self, () => Sizes(a, "shape")));
        t.Op("aten.view_as.default", a => a.B.Op("Reshape", [a.Self, a.B.Op("Shape", [a.Tensor("other")])]));
        t.Op("aten.reshape_as.default", a => a.B.Op("Reshape", [a.Self, a.B.Op("Shape", [a.Tensor("other")])]));
        t.Op("aten.flatten.using_ints", a =>
        {
            var rank = a.SelfMeta.Rank;
            var start = Axis(a.Long("start_dim", 0), Math.Max(rank, 1));
            var end = Axis(a.Long("end_dim", -1), Math.Max(rank, 1));
            return Reshape(a, a.Self, () => Around(a, start, a.B.Ints(-1), end + 1));
        });
        t.Op("aten.unflatten.int", a =>
        {
            var dim = Axis(a.Long("dim"), a.SelfMeta.Rank);
            return Reshape(a, a.Self, () => Around(a, dim, a.SymVector("sizes"), dim + 1));
        });
        t.Op("aten.permute.default", a =>
        {
            var rank = a.SelfMeta.Rank;
            return Transpose(a, a.Self, [.. a.Longs("dims").Select(d => Axis(d, rank))]);
        });
        t.Op("aten.transpose.int", a =>
        {
            var rank = a.SelfMeta.Rank;
            if (rank < 2)
            {
                return a.Self;
            }
            var perm = Enumerable.Range(0, rank).Select(d => (long)d).ToArray();
            (perm[Axis(a.Long("dim0"), rank)], perm[Axis(a.Long("dim1"), rank)]) = (perm[Axis(a.Long("dim1"), rank)], perm[Axis(a.Long("dim0"), rank)]);
            return Transpose(a, a.Self, perm);
        });
        t.Op("aten.t.default", a => a.SelfMeta.Rank < 2 ? a.Self : Transpose(a, a.Self, [1, 0]));
        t.Op("aten.unsqueeze.default", a => a.B.Op("Unsqueeze", [a.Self, a.B.Ints(Axis(a.Long("dim"), a.SelfMeta.Rank + 1))]));
        t.Op("aten.squeeze.dim", a => Squeeze(a, [a.Long("dim")]));
        t.Op("aten.squeeze.dims", a => Squeeze(a, a.Longs("dim")));
        t.Op("aten.squeeze.default", a => Squeeze(a, [.. Enumerable.Range(0, a.SelfMeta.Rank).Select(d => (long)d)]));
        t.Op("aten.expand.default", Expand);
        t.Op("aten.broadcast_to.default", Expand);
        t.Op("aten.mT.default", a =>
        {
            var rank = a.SelfMeta.Rank;
            var perm = Enumerable.Range(0, rank).Select(d => (long)d).ToArray();
            (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
            return Transpose(a, a.Self, perm);
        });
        // copy(self, src): src's values in self's shape and dtype (the functional form of self.copy_(src)).
        t.Op("aten.copy.default", a => a.B.Op("Expand", [a.Operand("src", a.OutputDType), a.B.Op("Shape", [a.Self])]));
        t.Op("aten.expand_as.default", a => a.B.Op("Expand", [a.Self, a.B.Op("Shape", [a.Tensor("other")])]));
        t.Op("aten.cat.default", Concat);
        t.Op("aten.concat.default", Concat);
        t.Op("aten.stack.default", a =>
        {
            var dtype = a.OutputDType;
            var axis = Axis(a.Long("dim", 0), a.OutputMeta().Rank);
            var parts = a.TensorNames("tensors").Select(n => a.B.Op("Unsqueeze", [a.Cast(a.B.Value(n!), a.MetaOf(n!).DType, dtype), a.B.Ints(axis)]));
            return a.B.Op("Concat", parts, Attr.Int("axis", axis));
        });
        t.Multi("aten.split.Tensor", a => [SplitEvenly(a, a.B.Vector(a.SymScalar("split_size")), a.Long("dim", 0))]);
        t.Multi("aten.split_with_sizes.default", a => [SplitSizes(a, a.SymVector("split_sizes"), a.Long("dim", 0))]);
        t.Multi("aten.chunk.default", a => [Chunk(a)]);
        t.Multi("aten.unbind.int", a =>
        {
            var count = OutputCount(a);
            var axis = Axis(a.Long("dim", 0), a.SelfMeta.Rank);
            var parts = a.B.Node("Split", [a.Self], count, Attr.Int("axis", axis), Attr.Int("num_outputs", count));
            return [parts.Select(p => a.B.Op("Squeeze", [p, a.B.Ints(axis)])).ToArray()];
        });
        t.Op("aten.flip.default", a =>
        {
            var rank = a.SelfMeta.Rank;
            var dims = a.Longs("dims").Select(d => Axis(d, rank)).ToArray();
            return dims.Length == 0 ? a.Self : a.B.Op("Slice",
                [a.Self, a.B.Ints([.. dims.Select(_ => -1L)]), a.B.Ints([.. dims.Select(_ => long.MinValue)]), a.B.Ints(dims), a.B.Ints([.. dims.Select(_ => -1L)])]);
        });
        t.Op("aten.roll.default", Roll);
        t.Op("aten.select.int", a => a.B.Op("Gather", [a.Self, a.SymScalar("index")], Attr.Int("axis", Axis(a.Long("dim"), a.SelfMeta.Rank))));
        t.Op("aten.slice.Tensor", a =>
        {
            var axis = Axis(a.Long("dim", 0), a.SelfMeta.Rank);
            var start = a.Has("start") ? a.B.Vector(a.SymScalar("start")) : a.B.Ints(0);
            var end = a.Has("end") ? a.B.Vector(a.SymScalar("end")) : a.B.Ints(long.MaxValue);
            var step = a.Long("step", 1);
            if (step < 1)
            {
                throw a.Unsupported("step", step);
            }
            return a.B.Op("Slice", [a.Self, start, end, a.B.Ints(axis), a.B.Ints(step)]);
        });
        t.Op("aten.narrow.default", a =>
        {
            var axis = Axis(a.Long("dim"), a.SelfMeta.Rank);
            var start = a.SymScalar("start");
            var end = a.B.Op("Add", [start, a.SymScalar("length")]);
            return a.B.Op("Slice", [a.Self, a.B.Vector(start), a.B.Vector(end), a.B.Ints(axis)]);
        });
        t.Op("aten.index.Tensor", Index);
        t.Op("aten.index_select.default", a =>
        {
            if (a.SelfMeta.Rank == 0)
            {
                // The only valid index of a 0-d tensor is 0: the result is the value, shaped like the index.
                return a.B.Op("Reshape", [a.Self, a.B.Ints([.. a.OutputMeta().Sizes.Select(d => d.Value ?? 1)])]);
            }
            var index = a.Tensor("index");
            var indexed = a.Meta("index").Rank == 0 ? a.B.Op("Unsqueeze", [index, a.B.Ints(0)]) : index;
            return a.B.Op("Gather", [a.Self, indexed], Attr.Int("axis", Axis(a.Long("dim"), a.SelfMeta.Rank)));
        });
        // A 0-d tensor's only index is 0: the result is its value in the index's shape.
        t.Op("aten.gather.default", a => a.SelfMeta.Rank == 0 ? a.B.Op("Expand", [a.Self, a.B.Op("Shape", [a.Tensor("index")])])
            : a.B.Op("GatherElements", [a.Self, a.Tensor("index")], Attr.Int("axis", Axis(a.Long("dim"), a.SelfMeta.Rank))));
        t.Op("aten.embedding.default", a => a.B.Op("Gather", [a.Tensor("weight"), a.Tensor("indices")], Attr.Int("axis", 0)));
        t.Op("aten.repeat.default", a =>
        {
            var repeats = a.Longs("repeats");
            var rank = a.SelfMeta.Rank;
            var x = repeats.Length > rank
                ? a.B.Op("Unsqueeze", [a.Self, a.B.Ints([.. Enumerable.Range(0, repeats.Length - rank).Select(d => (long)d)])])
                : a.Self;
            return a.B.Op("Tile", [x, a.B.Ints(repeats)]);
        });
        t.Op("aten.tril.default", a => Triangle(a, upper: false));
        t.Op("aten.triu.default", a => Triangle(a, upper: true));
        t.Op("aten.constant_pad_nd.default", a => Pad(a, "constant"));
        t.Op("aten.pad.default", a => Pad(a, a.OptionalString("mode") switch
        {
            null or "constant" => "constant",
            "reflect" => "reflect",
            "replicate" => "edge",
            "circular" => "wrap",
            var other => throw a.Unsupported("mode", other),
        }));

        foreach (var copy in new[] { "clone", "contiguous", "alias", "detach", "lift_fresh_copy" })
        {
            t.Op($"aten.{copy}.default", a => a.Self);
        }
        // Every conversion writes the dtype the graph records for its output; devices do not apply on the CPU.
        foreach (var convert in new[] { "_to_copy.default", "to.dtype", "to.dtype_layout", "to.device", "type_as.default" })
        {
            t.Op($"aten.{convert}", a => a.Cast(a.Self, a.SelfMeta.DType, a.OutputDType));
        }
    }

    /// <summary>
    /// A reshape to the output's dims: a constant shape when they are static or only one is symbolic (-1), else the
    /// shape <paramref name="symbolic"/> computes at run time.
    /// </summary>
    private static string Reshape(LoweringNode a, string x, Func<string> symbolic)
    {
        var dims = a.OutputMeta().Sizes;
        var unknown = dims.Count(d => !d.IsStatic);
        var zero = dims.Any(d => d.Value == 0);
        if (unknown == 0 || (unknown == 1 && !zero))
        {
            var shape = dims.Select(d => d.Value ?? -1).ToArray();
            return a.B.Op("Reshape", [x, a.B.Ints(shape)], Attr.Int("allowzero", zero ? 1 : 0));
        }
        if (zero)
        {
            throw new NotLowerableException("a reshape to a size of 0 next to sizes known only at run time has no exact ONNX form");
        }
        return a.B.Op("Reshape", [x, symbolic()]);
    }

    /// <summary>The node's own size list, whose computed entries are sym-ints.</summary>
    private static string Sizes(LoweringNode a, string name) => a.SymVector(a.SymInts(name));

    /// <summary>The input's dims before <paramref name="before"/>, then <paramref name="middle"/>, then its dims from <paramref name="after"/> on.</summary>
    private static string Around(LoweringNode a, long before, string middle, long after)
    {
        var rank = a.SelfMeta.Rank;
        var parts = new List<string>();
        if (before > 0)
        {
            parts.Add(a.B.Op("Shape", [a.Self], Attr.Int("start", 0), Attr.Int("end", before)));
        }
        parts.Add(middle);
        if (after < rank)
        {
            parts.Add(a.B.Op("Shape", [a.Self], Attr.Int("start", after)));
        }
        return parts.Count == 1 ? parts[0] : a.B.Op("Concat", parts, Attr.Int("axis", 0));
    }

    private static string Transpose(LoweringNode a, string x, long[] perm) =>
        perm.Select((p, i) => p == i).All(same => same) ? x : a.B.Op("Transpose", [x], Attr.Ints("perm", perm));

    /// <summary>Drops the dims of <paramref name="dims"/> that are 1; a symbolic dim is dropped when the output's rank says so.</summary>
    private static string Squeeze(LoweringNode a, long[] dims)
    {
        var meta = a.SelfMeta;
        var axes = dims.Select(d => Axis(d, Math.Max(1, meta.Rank))).Distinct().Where(d => d < meta.Rank).ToList();
        var ones = axes.Where(d => meta.Sizes[(int)d].Value == 1).ToList();
        var symbolic = axes.Where(d => !meta.Sizes[(int)d].IsStatic).ToList();
        var dropped = meta.Rank - a.OutputMeta().Rank;
        var squeezed = dropped == ones.Count ? ones
            : dropped == ones.Count + symbolic.Count ? [.. ones, .. symbolic]
            : throw new NotLowerableException($"which of the symbolic dims {string.Join(", ", symbolic)} are 1 is known only at run time");
        return squeezed.Count == 0 ? a.Self : a.B.Op("Squeeze", [a.Self, a.B.Ints([.. squeezed.Order()])]);
    }

    /// <summary>
    /// expand: ONNX broadcasts both ways, so a dim that keeps the input's size (-1, or the same expression) is 1; the
    /// others are the node's sizes.
    /// </summary>
    private static string Expand(LoweringNode a)
    {
        var input = a.SelfMeta;
        var sizes = a.SymInts("size");
        var offset = sizes.Count - input.Rank;
        var shape = sizes.Select((s, i) =>
        {
            var kept = i >= offset && (s.Literal == -1 || (s.Literal is null && a.OutputMeta().Sizes[i] == input.Sizes[i - offset]));
            return kept ? SymInt.Of(1) : s;
        }).ToList();
        if (shape.Any(s => s.Literal == -1))
        {
            throw new NotLowerableException("expand gives -1 for a new leading dim");
        }
        return a.B.Op("Expand", [a.Self, a.SymVector(shape)]);
    }

    /// <summary>cat: every part cast to the result dtype; legacy empty 1-D parts, which PyTorch skips, are left out.</summary>
    private static string Concat(LoweringNode a)
    {
        var dtype = a.OutputDType;
        var rank = a.OutputMeta().Rank;
        var parts = a.TensorNames("tensors")
            .Where(n => !(a.MetaOf(n!).Rank == 1 && a.MetaOf(n!).Sizes[0].Value == 0 && rank != 1))
            .Select(n => a.Cast(a.B.Value(n!), a.MetaOf(n!).DType, dtype)).ToList();
        return parts.Count == 1 ? parts[0] : a.B.Op("Concat", parts, Attr.Int("axis", Axis(a.Long("dim", 0), rank)));
    }

    private static int OutputCount(LoweringNode a) => a.Node.Outputs.Count == 1 && a.Node.Outputs[0] is TensorsArg ts ? ts.Names.Count
        : throw new NotLowerableException("the node's outputs are not one list of tensors");

    /// <summary>split into pieces of <paramref name="size"/> (a one-element vector) along <paramref name="dim"/>, the last one shorter: one Slice per piece.</summary>
    private static string[] SplitEvenly(LoweringNode a, string size, long dim)
    {
        var count = OutputCount(a);
        var axis = Axis(dim, a.SelfMeta.Rank);
        var pieces = new string[count];
        for (var i = 0; i < count; i++)
        {
            var start = i == 0 ? a.B.Ints(0) : a.B.Op("Mul", [size, a.B.Ints(i)]);
            var end = i == count - 1 ? a.B.Ints(long.MaxValue) : a.B.Op("Mul", [size, a.B.Ints(i + 1)]);
            pieces[i] = a.B.Op("Slice", [a.Self, start, end, a.B.Ints(axis)]);
        }
        return pieces;
    }

    private static string[] SplitSizes(LoweringNode a, string sizes, long dim)
    {
        var count = OutputCount(a);
        return count == 1 ? [a.Self] : a.B.Node("Split", [a.Self, sizes], count, Attr.Int("axis", Axis(dim, a.SelfMeta.Rank)));
    }

    /// <summary>chunk: pieces of ceil(size / chunks), as many as the node lists.</summary>
    private static string[] Chunk(LoweringNode a)
    {
        var axis = Axis(a.Long("dim", 0), a.SelfMeta.Rank);
        var chunks = a.Long("chunks");
        if (a.SelfMeta.Sizes[(int)axis].Value is { } length)
        {
            var piece = (length + chunks - 1) / chunks;
            var count = OutputCount(a);
            var sizes = Enumerable.Range(0, count).Select(i => Math.Min(piece, length - (i * piece))).ToArray();
            return SplitSizes(a, a.B.Ints(sizes), axis);
        }
        var dimSize = a.B.Op("Shape", [a.Self], Attr.Int("start", axis), Attr.Int("end", axis + 1));
        var size = a.B.Op("Div", [a.B.Op("Add", [dimSize, a.B.Ints(chunks - 1)]), a.B.Ints(chunks)]);
        return SplitEvenly(a, size, axis);
    }

    /// <summary>roll: each dim's last <c>shift</c> elements moved to its front; without dims, over the flattened tensor.</summary>
    private static string Roll(LoweringNode a)
    {
        var meta = a.SelfMeta;
        var shifts = a.Longs("shifts");
        var dims = a.Longs("dims", []);
        if (dims.Length == 0)
        {
            var flat = a.B.Op("Reshape", [a.Self, a.B.Ints(-1)]);
            var length = meta.Sizes.Aggregate(1L, (n, d) => n * (d.Value ?? throw new NotLowerableException("roll without dims of a tensor with symbolic dims")));
            return a.B.Op("Reshape", [RollAxis(a, flat, shifts[0], 0, length), a.B.Op("Shape", [a.Self])]);
        }
        var x = a.Self;
        for (var i = 0; i < dims.Length; i++)
        {
            var axis = Axis(dims[i], meta.Rank);
            x = RollAxis(a, x, shifts[i], axis, a.StaticDims(meta, [axis], "the rolled")[0]);
        }
        return x;
    }

    private static string RollAxis(LoweringNode a, string x, long shift, long axis, long length)
    {
        var s = length == 0 ? 0 : ((shift % length) + length) % length;
        if (s == 0)
        {
            return x;
        }
        var tail = a.B.Op("Slice", [x, a.B.Ints(length - s), a.B.Ints(length), a.B.Ints(axis)]);
        var head = a.B.Op("Slice", [x, a.B.Ints(0), a.B.Ints(length - s), a.B.Ints(axis)]);
        return a.B.Op("Concat", [tail, head], Attr.Int("axis", axis));
    }

    /// <summary>
    /// Advanced indexing with integer index tensors. One index is a Gather along its dim. Several are broadcast to one
    /// shape and stacked for a GatherND over the indexed dims moved to the front; as in PyTorch, the broadcast dims then
    /// lead, unless the indexed dims are adjacent, where they take the place of the first one.
    /// </summary>
    private static string Index(LoweringNode a)
    {
        var indices = a.TensorNames("indices");
        var given = indices.Select((n, i) => (Name: n, Dim: (long)i)).Where(x => x.Name is not null).ToList();
        foreach (var (name, _) in given)
        {
            a.Require(a.MetaOf(name!).DType, TensorDTypeSet.Integer, $"index '{name}'");
        }
        if (given.Count == 1)
        {
            return a.B.Op("Gather", [a.Self, a.B.Value(given[0].Name!)], Attr.Int("axis", given[0].Dim));
        }
        var rank = a.SelfMeta.Rank;
        var indexed = given.Select(g => g.Dim).ToList();
        var perm = indexed.Concat(Enumerable.Range(0, rank).Select(d => (long)d).Where(d => !indexed.Contains(d))).ToArray();
        var values = given.Select(g => a.Cast(a.B.Value(g.Name!), a.MetaOf(g.Name!).DType, TensorDType.I64)).ToList();
        var common = a.B.Op("Shape", [values.Skip(1).Aggregate(values[0], (sum, v) => a.B.Op("Add", [sum, v]))]);
        var stacked = a.B.Op("Concat", values.Select(v => a.B.Op("Unsqueeze", [a.B.Op("Expand", [v, common]), a.B.Ints(-1)])), Attr.Int("axis", -1));
        var gathered = a.B.Op("GatherND", [Transpose(a, a.Self, perm), stacked]);
        var first = indexed[0];
        if (first == 0 || indexed.Zip(indexed.Skip(1)).Any(p => p.Second != p.First + 1))
        {
            return gathered;
        }
        // Adjacent indexed dims after `first` others: the broadcast dims go back to where the indexed dims were.
        var broadcast = a.OutputMeta().Rank - (rank - given.Count);
        var back = Enumerable.Range(broadcast, (int)first).Concat(Enumerable.Range(0, broadcast)).Concat(Enumerable.Range(broadcast + (int)first, rank - given.Count - (int)first))
            .Select(d => (long)d).ToArray();
        return Transpose(a, gathered, back);
    }

    private static string Triangle(LoweringNode a, bool upper)
    {
        a.Require(a.SelfMeta.DType, new TensorDTypeSet(TensorDType.F32, TensorDType.I64, TensorDType.BOOL), "the tensor");
        return a.B.Op("Trilu", [a.Self, a.B.Int(a.Long("diagonal", 0))], Attr.Int("upper", upper ? 1 : 0));
    }

    /// <summary>PyTorch's pad lists (before, after) pairs from the last dim backwards; ONNX all befores, then all afters.</summary>
    private static string Pad(LoweringNode a, string mode)
    {
        var pad = a.Longs("pad");
        var rank = a.SelfMeta.Rank;
        if (pad.Length % 2 != 0 || pad.Length / 2 > rank)
        {
            throw a.Unsupported("pad", $"[{string.Join(", ", pad)}]");
        }
        var pairs = pad.Length / 2;
        var axes = Enumerable.Range(0, pairs).Select(i => (long)(rank - 1 - i)).ToArray();
        var pads = Enumerable.Range(0, pairs).Select(i => pad[2 * i]).Concat(Enumerable.Range(0, pairs).Select(i => pad[(2 * i) + 1])).ToArray();
        if (mode != "constant")
        {
            return a.B.Op("Pad", [a.Self, a.B.Ints(pads), "", a.B.Ints(axes)], Attr.String("mode", mode));
        }
        var value = a.B.Scalar(a.Double("value", 0), a.SelfMeta.DType);
        return a.B.Op("Pad", [a.Self, a.B.Ints(pads), value, a.B.Ints(axes)]);
    }
}
