namespace ModelBuild.Lowering.Onnx;

/// <summary>
/// Sizes computed at run time as 0-d int64 values (Python's semantics for // and %), and the assertions torch.export
/// inserts, which the compiler proves from the ranges and the runtime's input checks enforce: they emit nothing.
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
        foreach (var assertion in new[]
        {
            "aten._assert_scalar.default", "aten._assert_tensor_metadata.default", "aten.sym_constrain_range.default",
            "aten.sym_constrain_range_for_size.default", "aten._assert_async.msg",
        })
        {
            t.Multi(assertion, a => new object?[a.Node.Outputs.Count]);
        }
    }
}
