using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Sym-int arithmetic (sizes computed at run time, Python semantics) and the runtime assertions torch.export inserts,
/// which the compiler proves from the ranges and the runtime's input checks enforce, so they do nothing here.
/// </summary>
public static partial class OpKernels
{
    private static void AddSymbolic(KernelTable t)
    {
        t.Multi("aten.sym_size.int", a => [a.Self.size((int)a.Long("dim"))]);
        t.Multi("aten.sym_numel.default", a => [a.Self.numel()]);
        // item() of an integer tensor: a data-dependent size (an unbacked sym-int) the rest of the graph computes with.
        foreach (var item in new[] { "aten._local_scalar_dense.default", "aten.item.default" })
        {
            t.Multi(item, a => [a.Self.to(ScalarType.Int64).item<long>()],
                n => n.Outputs is [Engine.Graph.SymIntArg] ? null : "only the integer item() of a tensor (a sym-int) is supported");
        }
        t.Multi("_operator.mul", a => [a.Long("a") * a.Long("b")]);
        t.Multi("_operator.add", a => [a.Long("a") + a.Long("b")]);
        t.Multi("_operator.sub", a => [a.Long("a") - a.Long("b")]);
        t.Multi("_operator.neg", a => [-a.Long("a")]);
        t.Multi("_operator.floordiv", a => [FloorDiv(a.Long("a"), a.Long("b"))]);
        t.Multi("_operator.mod", a => [a.Long("a") - (a.Long("b") * FloorDiv(a.Long("a"), a.Long("b")))]);

        foreach (var assertion in new[]
        {
            "aten._assert_scalar.default", "aten._assert_tensor_metadata.default", "aten.sym_constrain_range.default",
            "aten.sym_constrain_range_for_size.default", "aten._assert_async.msg",
        })
        {
            t.Multi(assertion, _ => []);
        }
    }

    /// <summary>Python's //: rounds toward negative infinity.</summary>
    private static long FloorDiv(long a, long b)
    {
        var quotient = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? quotient - 1 : quotient;
    }
}
