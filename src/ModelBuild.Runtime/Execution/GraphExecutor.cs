using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Execution;

/// <summary>
/// Runs an <see cref="ExecutionPlan"/> with TorchSharp: nodes in plan order through <see cref="OpKernels"/>, each
/// intermediate freed right after its last use (<see cref="ExecutionPlan.FreeAfter"/>), since native memory is not
/// the GC's to reclaim. The weights are shared and never written, and every run keeps its values to itself, so
/// several threads may call <see cref="Run"/> at once.
/// </summary>
public sealed class GraphExecutor : IDisposable
{
    private readonly ExecutionPlan plan;
    private readonly Dictionary<string, Tensor> weights;
    private readonly Device device;

    // Per node, the values to free after it: the plan's FreeAfter less the outputs, worked out once, not on every run.
    private readonly string[][] freeAfter;
    private bool disposed;

    /// <summary>Takes ownership of the weight tensors (already on <paramref name="device"/>, in the plan's dtypes).</summary>
    public GraphExecutor(ExecutionPlan plan, IReadOnlyDictionary<string, Tensor> weights, Device device)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(device);
        this.weights = new Dictionary<string, Tensor>(weights, StringComparer.Ordinal);
        var missing = plan.Weights.Where(w => !weights.ContainsKey(w)).ToList();
        if (missing.Count > 0 || (plan.FreeAfter.Count != 0 && plan.FreeAfter.Count != plan.Nodes.Count))
        {
            Dispose();
            throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, missing.Count > 0
                ? $"The plan reads weights that were not given: {string.Join(", ", missing)}."
                : $"The plan has {plan.Nodes.Count} nodes but {plan.FreeAfter.Count} FreeAfter entries.");
        }

        this.plan = plan;
        this.device = device;
        var outputNames = new HashSet<string>(plan.Outputs, StringComparer.Ordinal);
        freeAfter = plan.FreeAfter.Select(names => names.Where(name => !outputNames.Contains(name)).ToArray()).ToArray();
    }

    /// <summary>
    /// Runs the plan on <paramref name="inputs"/> (in <see cref="ExecutionPlan.Inputs"/> order, not disposed here) under
    /// inference mode. Returns new tensors the caller owns, in <see cref="ExecutionPlan.Outputs"/> order.
    /// </summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != plan.Inputs.Count)
        {
            throw new ModelBuildException(
                DiagnosticCodes.PlanInconsistent,
                $"The model takes {plan.Inputs.Count} inputs ({string.Join(", ", plan.Inputs)}) but was given {inputs.Count}.");
        }

        using var inference = inference_mode();
        var run = new RunState(plan, weights, inputs);
        Func<string, object> lookup = run.Lookup; // one delegate per run, not one per node
        try
        {
            for (var i = 0; i < plan.Nodes.Count; i++)
            {
                var node = plan.Nodes[i];
                run.Bind(node, OpKernels.Invoke(node, lookup, device));
                if (freeAfter.Length > 0)
                {
                    foreach (var name in freeAfter[i])
                    {
                        run.Free(name, i);
                    }
                }
            }

            return plan.Outputs.Select(run.TakeOutput).ToArray();
        }
        finally
        {
            run.DisposeIntermediates();
        }
    }

    /// <summary>Frees the weights the executor prepared for its device; outputs already returned stay valid.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var weight in weights.Values)
        {
            weight.Dispose();
        }
    }

    /// <summary>
    /// The values of one run: inputs (borrowed) and the intermediates it produced (owned); the executor's weights are
    /// read from its own dictionary, not copied into every run.
    /// </summary>
    private sealed class RunState
    {
        private readonly ExecutionPlan plan;
        private readonly IReadOnlyDictionary<string, Tensor> weights;
        private readonly Dictionary<string, object> values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Tensor> owned = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> freedAfter = new(StringComparer.Ordinal);

        public RunState(ExecutionPlan plan, IReadOnlyDictionary<string, Tensor> weights, IReadOnlyList<Tensor> inputs)
        {
            this.plan = plan;
            this.weights = weights;
            for (var i = 0; i < inputs.Count; i++)
            {
                values[plan.Inputs[i]] = inputs[i];
            }
        }

        public object Lookup(string name)
        {
            if (values.TryGetValue(name, out var value))
            {
                return value;
            }

            if (freedAfter.TryGetValue(name, out var node))
            {
                throw new ModelBuildException(DiagnosticCodes.PlanInconsistent,
                    $"Value '{name}' is read after the plan freed it (FreeAfter of node {node}, {plan.Nodes[node].Target}).");
            }

            if (weights.TryGetValue(name, out var weight))
            {
                return weight;
            }

            throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"Value '{name}' is read before any node produces it.");
        }

        public void Bind(GraphNode node, object?[] results)
        {
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                switch (node.Outputs[i], results[i])
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
                        values[name] = size;
                        break;
                    case (NoneArg, _):
                        break;
                    default:
                        DisposeAll(results);
                        throw new ModelBuildException(
                            DiagnosticCodes.PlanInconsistent,
                            $"{NodeArguments.Describe(node)}: output {i} is {node.Outputs[i].GetType().Name} but the operator produced {results[i]?.GetType().Name ?? "nothing"}.");
                }
            }
        }

        public void Free(string name, int node)
        {
            if (owned.Remove(name, out var tensor))
            {
                tensor.Dispose();
                values.Remove(name);
                freedAfter[name] = node;
            }
        }

        /// <summary>An output produced by this run is handed over; an input or weight (or a repeat) is aliased.</summary>
        public Tensor TakeOutput(string name)
        {
            if (owned.Remove(name, out var produced))
            {
                return produced;
            }

            return Lookup(name) switch
            {
                Tensor t => t.alias(),
                long size => tensor(size),
                var other => throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"Output '{name}' is a {other.GetType().Name}, not a tensor."),
            };
        }

        public void DisposeIntermediates()
        {
            foreach (var tensor in owned.Values)
            {
                tensor.Dispose();
            }

            owned.Clear();
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

            if (owned.Remove(name, out var previous))
            {
                previous.Dispose();
            }

            owned[name] = tensor;
            values[name] = tensor;
        }
    }
}
