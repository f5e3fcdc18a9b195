using System.Collections.Frozen;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// The TorchSharp kernel of every operator target ModelBuild executes, in the training IR and the core ATen IR of
/// torch.export. Kernels are stateless: they read their arguments by schema name and return new tensors.
/// </summary>
public static partial class OpKernels
{
    private static readonly KernelTable Table = BuildTable();
    private static readonly FrozenDictionary<string, Kernel> Kernels = Table.ToFrozenDictionary(StringComparer.Ordinal);
    private static readonly FrozenDictionary<string, KernelCheck> Checks = Table.Checks.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Why <see cref="Unsupported"/> refuses a node whose target has no kernel at all.</summary>
    public const string NoKernel = "no TorchSharp kernel";

    /// <summary>The targets with a kernel, as torch.export writes them (<c>torch.ops.aten.linear.default</c>, <c>_operator.mul</c>).</summary>
    public static IReadOnlyCollection<string> SupportedTargets => Kernels.Keys;

    /// <summary>Whether a kernel runs <paramref name="target"/>; the compiler refuses graphs with other targets (MB2001).</summary>
    public static bool IsSupported(string target) => Kernels.ContainsKey(target);

    /// <summary>
    /// Null when a kernel runs <paramref name="node"/>, else why not: no kernel for its target, an argument value the
    /// kernel does not implement (a rounding mode, a padding mode), or a dtype ModelBuild has no name for.
    /// </summary>
    public static string? Unsupported(GraphNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!Kernels.ContainsKey(node.Target))
        {
            return NoKernel;
        }

        if (node.Inputs.Select(i => i.Value).OfType<ScalarTypeArg>().FirstOrDefault(d => !ExportScalarTypes.TryToDType(d.Code, out _)) is { } dtype)
        {
            return $"dtype code {dtype.Code} has no kernel";
        }

        return Checks.TryGetValue(node.Target, out var check) ? check(node) : null;
    }

    /// <summary>
    /// Runs one node. <paramref name="lookup"/> returns the value of a name the node reads: a <see cref="Tensor"/> or a
    /// sym-int (<see cref="long"/>). The result has one entry per <see cref="GraphNode.Outputs"/> entry: a Tensor for a
    /// TensorArg, a Tensor[] for a TensorsArg, a long for a SymIntArg, null for a NoneArg. Every tensor in it is new
    /// (never an input handed back), belongs to the caller and joins the caller's dispose scope if one is open.
    /// Factory ops without a device argument create tensors on <paramref name="defaultDevice"/> (CPU when null).
    /// A higher-order operator runs its subgraphs on the executors <paramref name="subgraphs"/> prepared (on new ones
    /// when null). Sym-floats are <see cref="double"/>s and sym-bools <see cref="bool"/>s, like sym-ints <see cref="long"/>s.
    /// Call it under <c>torch.inference_mode()</c> or <c>torch.no_grad()</c>.
    /// </summary>
    public static object?[] Invoke(GraphNode node, Func<string, object> lookup, Device? defaultDevice = null, Func<Subgraph, GraphExecutor>? subgraphs = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(lookup);
        if (!Kernels.TryGetValue(node.Target, out var kernel))
        {
            throw new ModelBuildException(
                DiagnosticCodes.KernelUnsupportedTarget, $"{NodeArguments.Describe(node)}: operator '{node.Target}' has no kernel in ModelBuild.Runtime.");
        }

        // Every kernel (engines, the compiler's reference, constant folding) runs past the check of libtorch's convolutions.
        LibTorchOneDnn.EnsureChecked();
        using var args = new NodeArguments(node, lookup, defaultDevice ?? CPU, subgraphs);
        using var scope = NewDisposeScope();
        object?[] results;
        try
        {
            results = kernel(args);
        }
        catch (Exception e) when (e is not ModelBuildException and not OutOfMemoryException)
        {
            var shapes = string.Join(", ", args.InputTensors.Select(t => $"[{string.Join(", ", t.shape)}] {t.dtype}"));
            throw new ModelBuildException(
                DiagnosticCodes.KernelFailed, $"{NodeArguments.Describe(node)} failed on inputs ({shapes}): {FirstLine(e.Message)}", inner: e);
        }

        var outputs = new object?[node.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            if (node.Outputs[i] is NoneArg)
            {
                continue;
            }

            if (i >= results.Length || results[i] is null)
            {
                throw new ModelBuildException(
                    DiagnosticCodes.KernelArgumentInvalid,
                    $"{NodeArguments.Describe(node)} names output {i}, which the operator does not produce.");
            }

            outputs[i] = Own(results[i], args.InputTensors, scope);
        }

        return outputs;
    }

    /// <summary>A result as the caller will own it: an input handed back becomes an alias, and it leaves the kernel's scope.</summary>
    private static object? Own(object? result, IReadOnlyList<Tensor> inputs, DisposeScope scope)
    {
        switch (result)
        {
            case Tensor t:
                var owned = Fresh(t, inputs);
                scope.MoveToOuter(owned);
                return owned;
            case Tensor[] list:
                var ownedList = list.Select(t => Fresh(t, inputs)).ToArray();
                scope.MoveToOuter(ownedList);
                return ownedList;
            default:
                return result;
        }
    }

    private static Tensor Fresh(Tensor t, IReadOnlyList<Tensor> inputs)
    {
        foreach (var input in inputs)
        {
            if (ReferenceEquals(input, t))
            {
                return t.alias();
            }
        }

        return t;
    }

    private static KernelTable BuildTable()
    {
        var table = new KernelTable();
        AddElementwise(table);
        AddShape(table);
        AddReductions(table);
        AddFactories(table);
        AddLinearAlgebra(table);
        AddNeuralNet(table);
        AddRecurrent(table);
        AddSymbolic(table);
        AddMath(table);
        AddStatistics(table);
        AddLayout(table);
        AddIndexing(table);
        AddRandom(table);
        AddPooling(table);
        AddSampling(table);
        AddEmbedding(table);
        AddLosses(table);
        AddDecompositions(table);
        AddGradients(table);
        AddHigherOrder(table);
        return table;
    }

    /// <summary>libtorch appends a native stack trace to its messages; the sentence before it is what users need.</summary>
    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
