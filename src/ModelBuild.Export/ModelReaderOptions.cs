namespace ModelBuild.Export;

/// <summary>Limits that keep a hostile or broken file from exhausting memory.</summary>
public sealed record ModelReaderOptions
{
    public static ModelReaderOptions Default { get; } = new();

    /// <summary>The largest archive (file size, and the sum of its entries' sizes) that is read. Default 4 GiB.</summary>
    public long MaxArchiveBytes { get; init; } = 4L << 30;
}
