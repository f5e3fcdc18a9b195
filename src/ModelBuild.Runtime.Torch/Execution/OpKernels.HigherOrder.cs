using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Higher-order operators: control flow and regions whose bodies are subgraphs of the same IR, run with the same
/// kernels on the executors the node's executor prepared. Their arguments are positional (the archive leaves them
/// unnamed) and their outputs are the subgraph's outputs, one node output each (a list output takes as many).
/// </summary>
public static partial class OpKernels
{
    private static void AddHigherOrder(KernelTable t)
    {
        // cond(pred, true_graph, false_graph, operands)
        t.Multi("torch.ops.higher_order.cond", a => Results(a, a.Subgraph(Truth(a.Value(0), a) ? 1 : 2).RunValues([.. a.Values(3)])));
        t.Multi("torch.ops.higher_order.map_impl", Map);
        t.Multi("torch.ops.higher_order.while_loop", WhileLoop);
        // wrap_with_set_grad_enabled(enabled, graph, *args): gradients do not exist in inference mode, where engines run.
        t.Multi("torch.ops.higher_order.wrap_with_set_grad_enabled", a => Results(a, a.Subgraph(1).RunValues(Operands(a, 2))));
        t.Multi("torch.ops.higher_order.wrap_with_autocast", WithAutocast);
    }

    /// <summary>map_impl(body, xs, pos_args): the body on row i of every xs (and all pos_args), its outputs stacked.</summary>
    private static object?[] Map(NodeArguments a)
    {
        var body = a.Subgraph(0);
        var xs = a.Values(1).Cast<Tensor>().ToList();
        var extra = a.Values(2).ToList();
        var rows = xs[0].shape[0];
        if (rows == 0 || xs.Any(x => x.shape[0] != rows))
        {
            throw new InvalidOperationException($"map_impl maps over the first dim of its inputs, which must be one size of at least 1: [{string.Join(", ", xs.Select(x => x.shape[0]))}].");
        }
        var perRow = new List<object[]>();
        for (var i = 0; i < rows; i++)
        {
            perRow.Add(body.RunValues([.. xs.Select(x => (object)x.select(0, i)), .. extra]));
        }
        var stacked = Enumerable.Range(0, perRow[0].Length).Select(j => (object)stack(perRow.Select(r => AsTensor(r[j])).ToArray()));
        return Results(a, [.. stacked]);
    }

    /// <summary>while_loop(cond_graph, body_graph, carried, additional): the body maps the carried values to the next ones while the condition holds.</summary>
    private static object?[] WhileLoop(NodeArguments a)
    {
        var condition = a.Subgraph(0);
        var body = a.Subgraph(1);
        var carried = a.Values(2).ToArray();
        var additional = a.Values(3).ToArray();
        var owned = false;
        while (true)
        {
            var test = condition.RunValues([.. carried, .. additional]);
            var holds = Truth(test[0], a);
            DisposeTensors(test);
            if (!holds)
            {
                return Results(a, carried);
            }
            var next = body.RunValues([.. carried, .. additional]);
            if (owned)
            {
                DisposeTensors(carried);
            }
            carried = next;
            owned = true;
        }
    }

    /// <summary>
    /// wrap_with_autocast(device_type, dtype, enabled, cache_enabled, graph, *args): the subgraph under libtorch's own
    /// autocast, which picks each operator's precision exactly as PyTorch's does.
    /// </summary>
    private static object?[] WithAutocast(NodeArguments a)
    {
        var deviceType = a.Positional(0) is StringArg { Value: var d } ? d : throw a.Unsupported("device_type", a.Positional(0).ToString());
        var enabled = a.Positional(2) is not BoolArg { Value: false };
        var dtype = a.Positional(1) switch
        {
            ScalarTypeArg s when ExportScalarTypes.TryToDType(s.Code, out var precision) => precision.ToScalarType(),
            NoneArg => deviceType.StartsWith("cuda", StringComparison.Ordinal) ? ScalarType.Float16 : ScalarType.BFloat16,
            var other => throw a.Unsupported("dtype", other.ToString()),
        };
        using (LibTorchAutocast.Enter(deviceType, dtype, enabled))
        {
            return Results(a, a.Subgraph(4).RunValues(Operands(a, 5)));
        }
    }

    /// <summary>The values of the arguments from <paramref name="first"/> on, each one or a list flattened.</summary>
    private static object[] Operands(NodeArguments a, int first) => [.. Enumerable.Range(first, a.Count - first).SelectMany(a.Values)];

    /// <summary>A predicate: a bool, or a tensor of one element.</summary>
    private static bool Truth(object value, NodeArguments a) => value switch
    {
        bool b => b,
        long l => l != 0,
        Tensor { NumberOfElements: 1 } t => t.to_type(ScalarType.Bool).item<bool>(),
        Tensor t => throw new ModelBuildException(DiagnosticCodes.KernelArgumentInvalid,
            $"{NodeArguments.Describe(a.Node)}: the predicate is a tensor of shape [{string.Join(", ", t.shape)}], not one element."),
        var other => throw new ModelBuildException(DiagnosticCodes.KernelArgumentInvalid,
            $"{NodeArguments.Describe(a.Node)}: the predicate is a {other.GetType().Name}, not a bool."),
    };

    private static Tensor AsTensor(object value) => value switch
    {
        Tensor t => t,
        long l => tensor(l),
        double d => tensor(d),
        bool b => tensor(b),
        _ => throw new InvalidOperationException($"a subgraph returned a {value.GetType().Name}."),
    };

    /// <summary>The subgraph's outputs grouped as the node's outputs take them: one value each, a list for a list.</summary>
    private static object?[] Results(NodeArguments a, object[] values)
    {
        var outputs = a.Node.Outputs;
        var wanted = outputs.Sum(o => o is TensorsArg list ? list.Names.Count : 1);
        if (wanted != values.Length)
        {
            DisposeTensors(values);
            throw new ModelBuildException(DiagnosticCodes.KernelArgumentInvalid,
                $"{NodeArguments.Describe(a.Node)} has {wanted} outputs but its subgraph returned {values.Length}.");
        }
        var results = new object?[outputs.Count];
        var next = 0;
        for (var i = 0; i < outputs.Count; i++)
        {
            if (outputs[i] is TensorsArg list)
            {
                results[i] = values[next..(next + list.Names.Count)].Select(AsTensor).ToArray();
                next += list.Names.Count;
            }
            else
            {
                results[i] = outputs[i] is TensorArg ? AsTensor(values[next]) : values[next];
                next++;
            }
        }
        return results;
    }

    private static void DisposeTensors(IEnumerable<object> values)
    {
        foreach (var t in values.OfType<Tensor>())
        {
            t.Dispose();
        }
    }
}
