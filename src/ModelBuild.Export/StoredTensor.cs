using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Export;

/// <summary>
/// How a tensor lies in its storage, as PyTorch saves it: element sizes, strides and offset in elements. Produces the
/// contiguous row-major bytes ModelBuild keeps, copying only when the storage is not already exactly that.
/// </summary>
internal sealed record StoredTensor(TensorDType DType, IReadOnlyList<long> Sizes, IReadOnlyList<long> Strides, long StorageOffset)
{
    /// <summary>The most elements a tensor may have: 2^40.</summary>
    public const long MaxElements = 1L << 40;

    public long ElementCount => Sizes.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// The bytes of storage the sizes, strides and offset reach (after <see cref="Validate"/>); long.MaxValue when
    /// that overflows, which no storage covers: sizes and strides of 2^40 each multiply past 64 bits.
    /// </summary>
    public long StorageBytesNeeded
    {
        get
        {
            if (ElementCount == 0)
            {
                return 0;
            }
            try
            {
                var last = checked(StorageOffset + 1);
                for (var i = 0; i < Sizes.Count; i++)
                {
                    last = checked(last + (Sizes[i] - 1) * Strides[i]);
                }
                return checked(last * DType.ElementSize());
            }
            catch (OverflowException)
            {
                return long.MaxValue;
            }
        }
    }

    /// <summary>Checks sizes, strides and offset for sanity; <paramref name="what"/> names the tensor in the message.</summary>
    public void Validate(string what, string file)
    {
        if (Sizes.Count != Strides.Count)
        {
            throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid,
                $"{what} has {Sizes.Count} sizes but {Strides.Count} strides.", file);
        }
        CheckSizes(Sizes, what, file);
        if (StorageOffset < 0 || StorageOffset > MaxElements || Strides.Any(s => s < 0 || s > MaxElements))
        {
            throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid,
                $"{what} has a negative or absurd stride or storage offset ({string.Join(", ", Strides)}; offset {StorageOffset}).", file);
        }
    }

    /// <summary>Refuses negative sizes, more than <see cref="TensorShapes.MaxRank"/> dims and tensors over 2^40 elements.</summary>
    public static void CheckSizes(IEnumerable<long> sizes, string what, string file)
    {
        long count = 1;
        var rank = 0;
        foreach (var size in sizes)
        {
            if (++rank > TensorShapes.MaxRank)
            {
                throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid, $"{what} has more than the {TensorShapes.MaxRank} dims ModelBuild reads.", file);
            }
            if (size < 0)
            {
                throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid, $"{what} has a negative size ({size}).", file);
            }
            // Zeros are left out of the product: libtorch still multiplies the other sizes when it computes strides.
            count = size == 0 ? count : (count > MaxElements / size ? MaxElements + 1 : count * size);
            if (count > MaxElements)
            {
                throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid,
                    $"{what} has more than 2^40 elements; the sizes are corrupt or the tensor is too large to read.", file);
            }
        }
    }

    /// <summary>Contiguous bytes of the tensor taken from <paramref name="storage"/> (the whole storage's bytes).</summary>
    public ReadOnlyMemory<byte> ToContiguous(byte[] storage, string what, string file)
    {
        var elementSize = DType.ElementSize();
        var count = ElementCount;
        if (count == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        if (count * elementSize > Array.MaxLength)
        {
            throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid,
                $"{what} holds {count * elementSize} bytes; tensors over 2 GiB are not supported.", file);
        }
        if (StorageBytesNeeded > storage.LongLength)
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                $"{what} needs {StorageBytesNeeded} bytes of storage for its sizes, strides and offset, but {storage.LongLength} are stored.", file);
        }
        if (IsContiguous())
        {
            return storage.AsMemory((int)(StorageOffset * elementSize), (int)(count * elementSize));
        }
        var result = new byte[count * elementSize];
        var index = new long[Sizes.Count];
        for (long n = 0; n < count; n++)
        {
            long source = StorageOffset;
            for (var d = 0; d < index.Length; d++)
            {
                source += index[d] * Strides[d];
            }
            Array.Copy(storage, source * elementSize, result, n * elementSize, elementSize);
            for (var d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < Sizes[d])
                {
                    break;
                }
                index[d] = 0;
            }
        }
        return result;
    }

    private bool IsContiguous()
    {
        long expected = 1;
        for (var d = Sizes.Count - 1; d >= 0; d--)
        {
            if (Sizes[d] != 1 && Strides[d] != expected)
            {
                return false;
            }
            expected *= Sizes[d];
        }
        return true;
    }
}
