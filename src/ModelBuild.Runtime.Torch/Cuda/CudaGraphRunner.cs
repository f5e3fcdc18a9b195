using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Backends;
using ModelBuild.Runtime.Torch.Execution;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// Runs a TorchSharp block on CUDA by replaying captured CUDA graphs: one graph per input signature (dtypes, shapes,
/// sym-int values), captured the first time it is seen (the opt shape at load) after two warm-up runs on the same side
/// stream, at most <see cref="ModelLoadOptions.MaxCudaGraphs"/> kept (least recently used evicted). A run copies the
/// inputs into the graph's static input tensors, replays, and returns copies of its static outputs. Runs of one block
/// are serialized by a lock (a graph's static tensors are shared state); a signature whose capture fails runs without
/// a graph, and the failure is noted once.
/// </summary>
internal sealed class CudaGraphRunner : IBlockRunner
{
    private readonly IBlockRunner _eager;
    private readonly GraphExecutor _executor;
    private readonly Device _device;
    private readonly int _deviceIndex;
    private readonly bool[] _symbolic;
    private readonly CudaGraphNative _native;
    private readonly BlockContext _context;
    private readonly nint _stream;
    private readonly object _gate = new();
    private readonly LinkedList<(string Key, Captured Graph)> _graphs = new();
    private readonly HashSet<string> _failed = new(StringComparer.Ordinal);

    public CudaGraphRunner(IBlockRunner eager, GraphExecutor executor, Device device, bool[] symbolic, CudaGraphNative native, BlockContext context)
    {
        _eager = eager;
        _executor = executor;
        _device = device;
        _deviceIndex = Math.Max(0, (int)device.index);
        _symbolic = symbolic;
        _native = native;
        _context = context;
        _stream = CudaGraph.SideStream(native, _deviceIndex);
    }

    public RunValue[] Run(ReadOnlySpan<RunValue> inputs)
    {
        var key = Signature(inputs);
        lock (_gate)
        {
            if (!_failed.Contains(key) && (Find(key) ?? Capture(key, inputs)) is { } graph)
            {
                return graph.Run(inputs, _device);
            }
        }
        return _eager.Run(inputs);
    }

    /// <summary>Captures the graph of the given inputs now (the opt shape at load), so the first run does not pay for it.</summary>
    public void Prepare(RunValue[] inputs)
    {
        lock (_gate)
        {
            var key = Signature(inputs);
            if (Find(key) is null && !_failed.Contains(key))
            {
                Capture(key, inputs);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (_, graph) in _graphs)
            {
                graph.Dispose();
            }
            _graphs.Clear();
        }
        _eager.Dispose();
    }

    private Captured? Find(string key)
    {
        for (var node = _graphs.First; node is not null; node = node.Next)
        {
            if (node.Value.Key == key)
            {
                _graphs.Remove(node);
                _graphs.AddFirst(node);
                return node.Value.Graph;
            }
        }
        return null;
    }

    private Captured? Capture(string key, ReadOnlySpan<RunValue> inputs)
    {
        // The static tensors belong to the graph, not to any dispose scope the caller has open.
        var statics = new object[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            if (_symbolic[i])
            {
                statics[i] = TorchValues.ToSymbolic(inputs[i]);
                continue;
            }
            using var source = TorchValues.ToTensor(inputs[i], _device);
            statics[i] = source.clone().DetachFromDisposeScope();
        }
        Tensor[] outputs = [];
        var graph = new CudaGraph(_native);
        cuda.synchronize(_device);
        string? failure;
        try
        {
            // Warm-up on the capture's stream: lazy initialization (cuBLAS workspaces, cuDNN algorithms) happens outside the graph.
            CudaGraph.OnStream(_native, _stream, _deviceIndex, () =>
            {
                for (var w = 0; w < 2; w++)
                {
                    foreach (var t in _executor.Run(statics))
                    {
                        t.Dispose();
                    }
                }
            });
            cuda.synchronize(_device);
            failure = graph.Capture(_stream, _deviceIndex, () => outputs = [.. _executor.Run(statics).Select(o => o.DetachFromDisposeScope())]);
        }
        catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or ModelBuild.Diagnostics.ModelBuildException)
        {
            failure = $"the warm-up run failed: {e.Message}";
        }
        cuda.synchronize(_device);
        if (failure is not null)
        {
            graph.Dispose();
            foreach (var s in statics)
            {
                (s as Tensor)?.Dispose();
            }
            _failed.Add(key);
            _context.Note($"{ModelBuild.Diagnostics.DiagnosticCodes.CudaGraphCaptureFailed}: inputs {key} run without a CUDA graph: {failure}");
            return null;
        }
        var captured = new Captured(graph, statics, outputs);
        _graphs.AddFirst((key, captured));
        while (_graphs.Count > _context.Options.MaxCudaGraphs)
        {
            _graphs.Last!.Value.Graph.Dispose();
            _graphs.RemoveLast();
        }
        return captured;
    }

    /// <summary>What a captured graph is specialized to: every tensor input's dtype and shape, every sym-int input's value.</summary>
    private string Signature(ReadOnlySpan<RunValue> inputs)
    {
        var parts = new string[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            parts[i] = _symbolic[i] ? Convert.ToString(TorchValues.ToSymbolic(inputs[i]), System.Globalization.CultureInfo.InvariantCulture)!
                : $"{inputs[i].DType}[{string.Join(",", inputs[i].Shape)}]";
        }
        return string.Join(" ", parts);
    }

    /// <summary>A graph with the static tensors it reads and writes, which live as long as it does.</summary>
    private sealed class Captured(CudaGraph graph, object[] inputs, Tensor[] outputs) : IDisposable
    {
        public RunValue[] Run(ReadOnlySpan<RunValue> values, Device device)
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                if (inputs[i] is Tensor target)
                {
                    using var source = TorchValues.ToTensor(values[i], device);
                    target.copy_(source, false);
                }
            }
            graph.Replay();
            var results = new RunValue[outputs.Length];
            for (var o = 0; o < outputs.Length; o++)
            {
                results[o] = new TorchValue(outputs[o].clone());
            }
            return results;
        }

        public void Dispose()
        {
            graph.Dispose();
            foreach (var t in outputs)
            {
                t.Dispose();
            }
            foreach (var s in inputs)
            {
                (s as Tensor)?.Dispose();
            }
        }
    }
}
