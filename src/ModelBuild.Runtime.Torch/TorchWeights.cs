using ModelBuild.Engine.Container;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch;

/// <summary>The engine's weights as tensors on the model's device, each moved there once however many blocks read it; disposed with the model.</summary>
internal sealed class TorchWeights(EngineFile engine, Device device) : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>The weights of <paramref name="names"/>; preparing blocks happens on one thread, at load.</summary>
    public IReadOnlyDictionary<string, Tensor> Get(IEnumerable<string> names)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        lock (_tensors)
        {
            foreach (var name in names)
            {
                if (!_tensors.TryGetValue(name, out var tensor))
                {
                    using var cpu = engine.Tensors.ToTensor(name);
                    tensor = _tensors[name] = cpu.to(device);
                }
                result[name] = tensor;
            }
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors.Values)
        {
            tensor.Dispose();
        }
        _tensors.Clear();
    }
}
