using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Runtime.Backends;

namespace ModelBuild.Runtime;

/// <summary>
/// Runs a plan's blocks in order, each on the runner its backend prepared at load. Every value that crosses a block
/// boundary has a slot number fixed at load, so a run is array indexing, not name lookups; a value is disposed right
/// after the last block that reads it. Thread-safe: each run has its own slots.
/// </summary>
internal sealed class PlanExecutor : IDisposable
{
    private readonly IBlockRunner[] _runners;
    private readonly int _slotCount;
    private readonly int[] _inputSlots;
    private readonly int[] _outputSlots;
    private readonly int[][] _blockInputs;
    private readonly int[][] _blockOutputs;
    // Per block, the slots whose last reader it is; values no block or output reads are freed where they are made.
    private readonly int[][] _freeAfter;
    private readonly bool _passThrough;
    private readonly string[] _backends;
    private readonly string _file;

    public PlanExecutor(ExecutionPlan plan, IBlockRunner[] runners, string file)
    {
        _runners = runners;
        _backends = [.. plan.Blocks.Select(b => b.Backend)];
        _file = file;
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        int Slot(string name) => slots.TryGetValue(name, out var s) ? s : slots[name] = slots.Count;
        int Read(string name, string who) => slots.TryGetValue(name, out var s) ? s
            : throw new ModelBuildException(DiagnosticCodes.PlanInconsistent, $"{who} reads value '{name}', which neither the model's inputs nor an earlier block provide.", file);

        _inputSlots = [.. plan.Inputs.Select(Slot)];
        _blockInputs = new int[plan.Blocks.Count][];
        _blockOutputs = new int[plan.Blocks.Count][];
        for (var b = 0; b < plan.Blocks.Count; b++)
        {
            var block = plan.Blocks[b];
            _blockInputs[b] = [.. block.Inputs.Select(n => Read(n, $"block {b} ({block.Backend})"))];
            _blockOutputs[b] = [.. block.Outputs.Select(Slot)];
        }
        _outputSlots = [.. plan.Outputs.Select(n => Read(n, "the model's outputs"))];
        _slotCount = slots.Count;

        var lastReader = new int[_slotCount];
        Array.Fill(lastReader, -1);
        for (var b = 0; b < _blockInputs.Length; b++)
        {
            foreach (var s in _blockInputs[b])
            {
                lastReader[s] = b;
            }
        }
        var kept = new HashSet<int>(_inputSlots.Concat(_outputSlots));
        _freeAfter = [.. Enumerable.Range(0, _blockInputs.Length).Select(b =>
            _blockInputs[b].Concat(_blockOutputs[b]).Distinct().Where(s => !kept.Contains(s) && Math.Max(lastReader[s], ProducerOf(s)) == b).ToArray())];
        _passThrough = plan.Blocks.Count == 1 && _blockInputs[0].SequenceEqual(_inputSlots) && _blockOutputs[0].SequenceEqual(_outputSlots)
            && _outputSlots.Distinct().Count() == _outputSlots.Length && !_outputSlots.Any(_inputSlots.Contains);

        int ProducerOf(int slot)
        {
            for (var b = 0; b < _blockOutputs.Length; b++)
            {
                if (Array.IndexOf(_blockOutputs[b], slot) >= 0)
                {
                    return b;
                }
            }
            return -1;
        }
    }

    /// <summary>Runs the blocks on <paramref name="inputs"/> (borrowed) and returns the outputs, owned by the caller.</summary>
    public RunValue[] Run(IReadOnlyList<RunValue> inputs)
    {
        if (_passThrough)
        {
            return Made(0, _runners[0].Run(inputs is RunValue[] array ? array : [.. inputs]));
        }
        var values = new RunValue?[_slotCount];
        var owned = new bool[_slotCount];
        for (var i = 0; i < _inputSlots.Length; i++)
        {
            values[_inputSlots[i]] = inputs[i];
        }
        try
        {
            for (var b = 0; b < _runners.Length; b++)
            {
                var args = new RunValue[_blockInputs[b].Length];
                for (var i = 0; i < args.Length; i++)
                {
                    args[i] = values[_blockInputs[b][i]]!;
                }
                var results = Made(b, _runners[b].Run(args));
                for (var o = 0; o < results.Length; o++)
                {
                    var slot = _blockOutputs[b][o];
                    if (owned[slot])
                    {
                        values[slot]!.Dispose();
                    }
                    values[slot] = results[o];
                    owned[slot] = true;
                }
                foreach (var slot in _freeAfter[b])
                {
                    if (owned[slot])
                    {
                        values[slot]!.Dispose();
                        owned[slot] = false;
                    }
                    values[slot] = null;
                }
            }
            var outputs = new RunValue[_outputSlots.Length];
            for (var o = 0; o < outputs.Length; o++)
            {
                var slot = _outputSlots[o];
                // The first use of a value this run made hands it over; an input or a repeated output is shared.
                if (owned[slot])
                {
                    outputs[o] = values[slot]!;
                    owned[slot] = false;
                }
                else
                {
                    outputs[o] = values[slot]!.Share();
                }
            }
            return outputs;
        }
        finally
        {
            for (var s = 0; s < _slotCount; s++)
            {
                if (owned[s])
                {
                    values[s]!.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// A block's results when they are as many as the plan says it makes. A backend makes what its compiled payload
    /// makes (a TorchScript module returns what it returns), and a damaged or hostile plan may name more or fewer.
    /// </summary>
    private RunValue[] Made(int block, RunValue[] results)
    {
        if (results.Length == _blockOutputs[block].Length)
        {
            return results;
        }
        foreach (var result in results)
        {
            result.Dispose();
        }
        throw new ModelBuildException(DiagnosticCodes.PlanInconsistent,
            $"block {block} ({_backends[block]}) made {results.Length} value{(results.Length == 1 ? "" : "s")}, but the plan names {_blockOutputs[block].Length}.", _file);
    }

    public void Dispose()
    {
        foreach (var runner in _runners)
        {
            runner.Dispose();
        }
    }
}
