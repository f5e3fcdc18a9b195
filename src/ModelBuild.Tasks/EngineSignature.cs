using System.Collections.Generic;

namespace ModelBuild.Tasks;

/// <summary>What the generated accessor needs from an engine's manifest: its tensors and the ranges of their dims.</summary>
public sealed class EngineSignature
{
    public EngineSignature(string name, string device, string precision, IReadOnlyList<EngineTensor> inputs, IReadOnlyList<EngineTensor> outputs,
        IReadOnlyDictionary<string, EngineSymbolRange> symbols, IReadOnlyDictionary<string, EngineSymbolRange> relations, IReadOnlyList<string> backends)
    {
        Backends = backends;
        Name = name;
        Device = device;
        Precision = precision;
        Inputs = inputs;
        Outputs = outputs;
        Symbols = symbols;
        Relations = relations;
    }

    public string Name { get; }
    public string Device { get; }
    public string Precision { get; }
    public IReadOnlyList<EngineTensor> Inputs { get; }
    public IReadOnlyList<EngineTensor> Outputs { get; }
    /// <summary>Symbol name to its compiled range.</summary>
    public IReadOnlyDictionary<string, EngineSymbolRange> Symbols { get; }
    /// <summary>Expression of symbols (<c>8*s69</c>) to its range; Opt is unused (0).</summary>
    public IReadOnlyDictionary<string, EngineSymbolRange> Relations { get; }
    /// <summary>The backends the engine's blocks run on, in plan order without repeats.</summary>
    public IReadOnlyList<string> Backends { get; }
}

/// <param name="Dims">each an int literal or an expression of symbols.</param>
public sealed record EngineTensor(string Name, string DType, IReadOnlyList<string> Dims);

public sealed record EngineSymbolRange(long Min, long Opt, long Max);
