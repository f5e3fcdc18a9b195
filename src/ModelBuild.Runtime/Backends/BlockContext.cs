using System.Collections.Concurrent;
using ModelBuild.Engine.Container;

namespace ModelBuild.Runtime.Backends;

/// <summary>
/// What a backend may use while preparing a block: the engine (its tensors: weights, compiled payloads), the device,
/// the file named in errors, and state shared by the blocks of one loaded model (weights moved to a device once,
/// however many blocks read them), disposed with the model.
/// </summary>
public sealed class BlockContext : IDisposable
{
    private readonly ConcurrentDictionary<string, object> _shared = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _notes = new();

    internal BlockContext(EngineFile engine, string device, string file, ModelLoadOptions options)
    {
        Engine = engine;
        Device = device;
        File = file;
        Options = options;
    }

    /// <summary>How the model is being loaded.</summary>
    public ModelLoadOptions Options { get; }

    /// <summary>What the backends said about how they run the model (a fallback and its reason), oldest first.</summary>
    public IReadOnlyCollection<string> Notes => _notes;

    /// <summary>Records <paramref name="note"/> (an <c>MBxxxx:</c> line) for <see cref="CompiledModel.Notes"/> and as a trace warning; a backend may note at load and during runs.</summary>
    public void Note(string note)
    {
        _notes.Enqueue(note);
        System.Diagnostics.Trace.TraceWarning($"{File}: {note}");
    }

    /// <summary>
    /// The engine being loaded. Its tensors' bytes may be read only while blocks are prepared: a mapped engine file or a
    /// resource is released when the load ends (reading it then throws <see cref="ObjectDisposedException"/>), so a
    /// backend copies what its runs read.
    /// </summary>
    public EngineFile Engine { get; }

    /// <summary>Where the model runs: "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; }

    /// <summary>The engine's file or resource, named in errors.</summary>
    public string File { get; }

    /// <summary>The model-wide state stored under <paramref name="key"/>, made once by <paramref name="create"/>; disposed with the model when it is <see cref="IDisposable"/>.</summary>
    public T Shared<T>(string key, Func<T> create) where T : class => (T)_shared.GetOrAdd(key, _ => create());

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var state in _shared.Values.OfType<IDisposable>())
        {
            state.Dispose();
        }
        _shared.Clear();
    }
}
