using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Export.Pickle;

/// <summary>A class or function a pickle names; only allow-listed ones are ever produced, and none is executed.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>A pickled tuple.</summary>
internal sealed record PickleTuple(IReadOnlyList<object?> Items);

/// <summary>A pickled dict (or OrderedDict), in insertion order; keys are compared by value, in constant time.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _index = [];
    private int _nullKey = -1;

    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        var i = key is null ? _nullKey : _index.GetValueOrDefault(key, -1);
        if (i >= 0)
        {
            Items[i] = new(key, value);
            return;
        }
        if (key is null)
        {
            _nullKey = Items.Count;
        }
        else
        {
            _index[key] = Items.Count;
        }
        Items.Add(new(key, value));
    }
}

/// <summary>An instance of an allow-listed class (a TorchScript module), with the state BUILD gave it.</summary>
internal sealed class PickleObject(PickleGlobal type)
{
    public PickleGlobal Type { get; } = type;

    public object? State { get; set; }
}

/// <summary>A storage a pickle refers to by persistent id: torch.save keeps its bytes in <c>data/&lt;Key&gt;</c>.</summary>
internal sealed record StorageRef(string Key, TensorDType DType, long ElementCount);

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a view of a storage.</summary>
internal sealed record PickledTensor(StorageRef Storage, StoredTensor Layout);
