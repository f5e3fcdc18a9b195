using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Export.Pickle;

/// <summary>A class or function a pickle names; only allow-listed ones are ever produced, and none is executed.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>A pickled tuple.</summary>
internal sealed record PickleTuple(IReadOnlyList<object?> Items);

/// <summary>A pickled dict (or OrderedDict), in insertion order; keys are compared by value.</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        var i = Items.FindIndex(p => Equals(p.Key, key));
        if (i >= 0)
        {
            Items[i] = new(key, value);
        }
        else
        {
            Items.Add(new(key, value));
        }
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
