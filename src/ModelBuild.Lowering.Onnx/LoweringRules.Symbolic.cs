namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// Sizes computed at run time as 0-d int64 values (Python's semantics for // and %). Of the assertions torch.export
/// inserts, only <c>_assert_tensor_metadata</c> lowers (to nothing: ONNX Runtime checks types itself); the checks of
/// values (<c>_assert_scalar</c>, <c>sym_constrain_range</c>, <c>_assert_async</c>) have no rule, so the partitioner
/// leaves them to TorchSharp, which runs them as the coded runtime checks they are (MB5007).
/// </summary>
internal static partial class LoweringRules
{
    private static void AddSymbolic(RuleTable t)
    {
        t.Op("aten.sym_size.int", a =>
        {
            var axis = Axis(a.Long("dim"), a.SelfMeta.Rank);
            return a.SelfMeta.Sizes[(int)axis].Value is { } size ? a.B.Int(size) : a.B.Op("Gather", [a.B.Op("Shape", [a.Self]), a.B.Int(axis)], Attr.Int("axis", 0));
        });
        t.Op("aten.sym_numel.default", a => a.B.Op("ReduceProd", [a.B.Op("Shape", [a.Self])], Attr.Int("keepdims", 0)));
        t.Op("_operator.mul", a => a.B.Op("Mul", [a.SymScalar("a"), a.SymScalar("b")]));
        t.Op("_operator.add", a => a.B.Op("Add", [a.SymScalar("a"), a.SymScalar("b")]));
        t.Op("_operator.sub", a => a.B.Op("Sub", [a.SymScalar("a"), a.SymScalar("b")]));
        t.Op("_operator.neg", a => a.B.Op("Neg", [a.SymScalar("a")]));
        t.Op("_operator.mod", a => a.B.Op("Mod", [a.SymScalar("a"), a.SymScalar("b")]));
        t.Op("_operator.floordiv", a =>
        {
            var x = a.SymScalar("a");
            var y = a.SymScalar("b");
            return a.B.Op("Div", [a.B.Op("Sub", [x, a.B.Op("Mod", [x, y])]), y]);
        });
        t.Multi("aten._assert_tensor_metadata.default", a => new object?[a.Node.Outputs.Count]);
    }
}
