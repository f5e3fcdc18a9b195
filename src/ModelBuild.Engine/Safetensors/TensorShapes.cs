namespace ModelBuild.Engine.Safetensors;

/// <summary>Bounds every reader applies to a tensor shape before anything is allocated for it.</summary>
public static class TensorShapes
{
    /// <summary>More dims than any model uses; a longer shape is a corrupt file, not a tensor.</summary>
    public const int MaxRank = 64;

    /// <summary>
    /// The bytes a contiguous tensor of this shape holds, or null when a size is negative, the rank is over
    /// <see cref="MaxRank"/>, or the product of the sizes (zeros left out, as libtorch multiplies them when it computes
    /// strides) times the element size overflows 64 bits.
    /// </summary>
    public static long? ByteCount(IReadOnlyList<long> shape, TensorDType dtype)
    {
        if (shape.Count > MaxRank)
        {
            return null;
        }
        long product = dtype.ElementSize();
        var empty = false;
        foreach (var size in shape)
        {
            if (size < 0)
            {
                return null;
            }
            if (size == 0)
            {
                empty = true;
                continue;
            }
            if (product > long.MaxValue / size)
            {
                return null;
            }
            product *= size;
        }
        return empty ? 0 : product;
    }
}
