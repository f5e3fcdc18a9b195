using System.Collections.Frozen;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// Runs nodes of the graph IR with TorchSharp: in order through <see cref="OpKernels"/>, each intermediate freed right
/// after its last use (the block's FreeAfter), since native memory is not the GC's to reclaim. Every value has a slot
/// fixed at construction; a run keeps its values in an array of its own, so several threads may call <see cref="Run"/>
/// at once. The weights are shared and never written. The subgraphs of higher-order operators (<c>cond</c>,
/// <c>while_loop</c>...) get executors of their own at construction, which their kernels run.
/// </summary>
public sealed class GraphExecutor
{
    private readonly IReadOnlyList<GraphNode> _nodes;
    private readonly Device _device;
    private readonly FrozenDictionary<string, int> _slots;
    private readonly int[] _inputSlots;
    private readonly int[] _outputSlots;
    private readonly Tensor[] _weights;
    private readonly int[] _weightSlots;
    // Per node, the slots of its outputs and of the values to free after it (outputs of the block excluded).
    private readonly Argument[][] _nodeOutputs;
    private readonly int[][] _freeAfter;
    private readonly string[] _names;
    private readonly Dictionary<Subgraph, GraphExecutor> _subgraphs = new(ReferenceEqualityComparer.Instance);
    private readonly Func<Subgraph, GraphExecutor> _subgraphOf;

    /// <summary>Reads the weight tensors (already on <paramref name="device"/>, in the plan's dtypes) without owning them.</summary>
    /// <param name="nodes">The nodes in execution order.</param>
    /// <param name="inputs">The values <see cref="Run"/> is given, in order.</param>
    /// <param name="outputs">The values <see cref="Run"/> returns, in order.</param>
    /// <param name="weights">The weights the nodes read, by value name.</param>
    /// <param name="freeAfter">Per node, the values whose last use it is; empty for no memory plan.</param>
    /// <param name="device">Where factory ops without a device argument put their tensors.</param>
    public GraphExecutor(IReadOnlyList<GraphNode> nodes, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs,
        IReadOnlyDictionary<string, Tensor> weights, IReadOnlyList<IReadOnlyList<string>> freeAfter, Device device)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(device);
        var weightList = weights.ToList();
        _weights = [.. weightList.Select(w => w.Value)];
        if (freeAfter.Count != 0 && freeAfter.Count != nodes.Count)
        {
            throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"The plan has {nodes.Count} nodes but {freeAfter.Count} FreeAfter entries.");
        }
        _nodes = nodes;
        _device = device;
        _subgraphOf = subgraph => _subgraphs[subgraph];

        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        int Slot(string name) => slots.TryGetValue(name, out var s) ? s : slots[name] = slots.Count;
        _inputSlots = [.. inputs.Select(Slot)];
        _weightSlots = [.. weightList.Select(w => Slot(w.Key))];
        _nodeOutputs = [.. nodes.Select(n => n.Outputs.ToArray())];
        foreach (var node in nodes)
        {
            foreach (var name in node.Inputs.SelectMany(a => ReadNames(a.Value)))
            {
                if (!slots.ContainsKey(name))
                {
                    throw new ModelBuildException(DiagnosticCodes.PlanInconsistent,
                        $"{NodeArguments.Describe(node)} reads '{name}', which no input, weight or earlier node provides.");
                }
            }
            foreach (var name in node.Outputs.SelectMany(OutputNames))
            {
                Slot(name);
            }
            foreach (var graph in node.Inputs.Select(a => a.Value).OfType<GraphArg>())
            {
                _subgraphs.TryAdd(graph.Graph, new GraphExecutor(graph.Graph, device));
            }
        }
        var missing = outputs.Where(o => !slots.ContainsKey(o)).ToList();
        if (missing.Count > 0)
        {
            throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"The plan's outputs {string.Join(", ", missing)} are produced by no node, input or weight.");
        }
        _outputSlots = [.. outputs.Select(o => slots[o])];
        var outputSet = _outputSlots.ToHashSet();
        _freeAfter = freeAfter.Count == 0 ? [] : [.. freeAfter.Select(names => names.Where(slots.ContainsKey).Select(n => slots[n]).Where(s => !outputSet.Contains(s)).ToArray())];
        _slots = slots.ToFrozenDictionary(StringComparer.Ordinal);
        _names = new string[slots.Count];
        foreach (var (name, slot) in slots)
        {
            _names[slot] = name;
        }
    }

    /// <summary>
    /// An executor of a higher-order operator's subgraph: its inputs and outputs as the subgraph names them, no weights
    /// (torch.export passes everything a subgraph reads as an operand), no memory plan: its intermediates live until the
    /// call returns.
    /// </summary>
    /// <param name="graph">The subgraph.</param>
    /// <param name="device">Where factory ops without a device argument put their tensors.</param>
    public GraphExecutor(Subgraph graph, Device device)
        : this(graph.Nodes, [.. graph.Inputs.Select(SubgraphValue)], [.. graph.Outputs.Select(SubgraphValue)], new Dictionary<string, Tensor>(), [], device)
    {
    }

    /// <summary>
    /// Runs the nodes on <paramref name="inputs"/> (tensors, or symbolic values: <see cref="long"/>, <see cref="double"/>,
    /// <see cref="bool"/>; not disposed here) under inference mode. Returns new values the caller owns (tensors, or
    /// symbolic values as 0-d tensors), in output order.
    /// </summary>
    public Tensor[] Run(IReadOnlyList<object> inputs)
    {
        var values = RunValues(inputs);
        var results = new Tensor[values.Length];
        for (var o = 0; o < values.Length; o++)
        {
            results[o] = values[o] switch
            {
                Tensor t => t,
                long size => tensor(size),
                double number => tensor(number),
                bool flag => tensor(flag),
                var other => throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"Output '{_names[_outputSlots[o]]}' is a {other.GetType().Name}, not a value."),
            };
        }
        return results;
    }

    /// <summary>
    /// Runs the nodes like <see cref="Run"/> and returns the outputs as the nodes made them: new tensors the caller owns,
    /// or symbolic values (<see cref="long"/>, <see cref="double"/>, <see cref="bool"/>).
    /// </summary>
    public object[] RunValues(IReadOnlyList<object> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != _inputSlots.Length)
        {
            throw new ModelBuildException(DiagnosticCodes.PlanInconsistent,
                $"The block takes {_inputSlots.Length} inputs ({string.Join(", ", _inputSlots.Select(s => _names[s]))}) but was given {inputs.Count}.");
        }

        using var inference = inference_mode();
        var run = new RunState(this);
        Func<string, object> lookup = run.Lookup; // one delegate per run, not one per node
        for (var i = 0; i < inputs.Count; i++)
        {
            run.Values[_inputSlots[i]] = inputs[i];
        }
        for (var w = 0; w < _weights.Length; w++)
        {
            run.Values[_weightSlots[w]] = _weights[w];
        }
        try
        {
            for (var i = 0; i < _nodes.Count; i++)
            {
                run.Bind(i, OpKernels.Invoke(_nodes[i], lookup, _device, _subgraphOf));
                if (_freeAfter.Length > 0)
                {
                    foreach (var slot in _freeAfter[i])
                    {
                        run.Free(slot, i);
                    }
                }
            }
            var results = new object[_outputSlots.Length];
            for (var o = 0; o < results.Length; o++)
            {
                results[o] = run.TakeOutput(_outputSlots[o]);
            }
            return results;
        }
        finally
        {
            run.DisposeIntermediates();
        }
    }

    private static IEnumerable<string> ReadNames(Argument argument) => argument switch
    {
        TensorArg t => [t.Name],
        TensorsArg ts => ts.Names,
        OptionalTensorsArg ots => ots.Names.OfType<string>(),
        SymIntArg { Value.Name: { } name } => [name],
        SymIntsArg s => s.Values.Select(v => v.Name).OfType<string>(),
        SymFloatArg { Name: { } name } => [name],
        SymBoolArg { Name: { } name } => [name],
        _ => [],
    };

    private static IEnumerable<string> OutputNames(Argument output) => output switch
    {
        TensorArg t when t.Name.Length > 0 => [t.Name],
        TensorsArg ts => ts.Names.Where(n => n.Length > 0),
        SymIntArg { Value.Name: { } name } => [name],
        SymFloatArg { Name: { } name } => [name],
        SymBoolArg { Name: { } name } => [name],
        _ => [],
    };

    /// <summary>The value a subgraph input or output names; a subgraph has no literals there.</summary>
    private static string SubgraphValue(Argument argument) => OutputNames(argument).SingleOrDefault()
        ?? throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"A subgraph's input or output is {argument}, not one named value.");

    /// <summary>The values of one run: inputs and weights (borrowed) and the intermediates it produced (owned).</summary>
    private sealed class RunState(GraphExecutor executor)
    {
        public readonly object?[] Values = new object?[executor._names.Length];
        private readonly bool[] _owned = new bool[executor._names.Length];
        private readonly int[] _freedAfter = Enumerable.Repeat(-1, executor._names.Length).ToArray();

        public object Lookup(string name)
        {
            if (executor._slots.TryGetValue(name, out var slot))
            {
                if (Values[slot] is { } value)
                {
                    return value;
                }
                if (_freedAfter[slot] >= 0)
                {
                    throw new ModelBuildException(DiagnosticCodes.PlanInconsistent,
                        $"Value '{name}' is read after the plan freed it (FreeAfter of node {_freedAfter[slot]}, {executor._nodes[_freedAfter[slot]].Target}).");
                }
            }
            throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"Value '{name}' is read before any node produces it.");
        }

        public void Bind(int nodeIndex, object?[] results)
        {
            var outputs = executor._nodeOutputs[nodeIndex];
            for (var i = 0; i < outputs.Length; i++)
            {
                switch (outputs[i], results[i])
                {
                    case (TensorArg arg, Tensor tensor):
                        Own(arg.Name, tensor);
                        break;
                    case (TensorsArg arg, Tensor[] tensors) when arg.Names.Count == tensors.Length:
                        for (var j = 0; j < tensors.Length; j++)
                        {
                            Own(arg.Names[j], tensors[j]);
                        }
                        break;
                    case (SymIntArg { Value.Name: { } name }, long size):
                        Values[executor._slots[name]] = size;
                        break;
                    case (SymFloatArg { Name: { } name }, double or long):
                        Values[executor._slots[name]] = Convert.ToDouble(results[i], System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case (SymBoolArg { Name: { } name }, bool flag):
                        Values[executor._slots[name]] = flag;
                        break;
                    case (NoneArg, _):
                        break;
                    default:
                        DisposeAll(results);
                        var node = executor._nodes[nodeIndex];
                        throw new ModelBuildException(DiagnosticCodes.PlanInconsistent,
                            $"{NodeArguments.Describe(node)}: output {i} is {outputs[i].GetType().Name} but the operator produced {results[i]?.GetType().Name ?? "nothing"}.");
                }
            }
        }

        public void Free(int slot, int node)
        {
            if (_owned[slot])
            {
                ((Tensor)Values[slot]!).Dispose();
                _owned[slot] = false;
                Values[slot] = null;
                _freedAfter[slot] = node;
            }
        }

        /// <summary>An output produced by this run is handed over; an input or weight (or a repeat) is aliased; a symbolic value is as it is.</summary>
        public object TakeOutput(int slot)
        {
            if (_owned[slot])
            {
                _owned[slot] = false;
                return Values[slot]!;
            }
            return Lookup(executor._names[slot]) is Tensor t ? t.alias() : Values[slot]!;
        }

        public void DisposeIntermediates()
        {
            for (var s = 0; s < _owned.Length; s++)
            {
                if (_owned[s])
                {
                    ((Tensor)Values[s]!).Dispose();
                    _owned[s] = false;
                }
            }
        }

        private static void DisposeAll(object?[] results)
        {
            foreach (var result in results)
            {
                if (result is Tensor t)
                {
                    t.Dispose();
                }
                else if (result is Tensor[] list)
                {
                    foreach (var item in list)
                    {
                        item.Dispose();
                    }
                }
            }
        }

        private void Own(string name, Tensor tensor)
        {
            if (string.IsNullOrEmpty(name))
            {
                tensor.Dispose();
                return;
            }
            var slot = executor._slots[name];
            if (_owned[slot])
            {
                ((Tensor)Values[slot]!).Dispose();
            }
            _owned[slot] = true;
            Values[slot] = tensor;
        }
    }
}
