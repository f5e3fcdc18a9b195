namespace ModelBuild.Export;

/// <summary>Limits that keep a hostile or broken file from exhausting memory or time; every one is checked before the work it bounds.</summary>
public sealed record ModelReaderOptions
{
    public static ModelReaderOptions Default { get; } = new();

    /// <summary>The largest archive (file size, and the sum of its entries' sizes) that is read. Default 4 GiB.</summary>
    public long MaxArchiveBytes { get; init; } = 4L << 30;

    /// <summary>
    /// How many times its own size a file's entries may inflate to, nested torch.save archives included (at least 1 MiB
    /// for small files). PyTorch stores entries uncompressed, so real archives inflate about once; default 100.
    /// </summary>
    public int MaxCompressionRatio { get; init; } = 100;

    /// <summary>The most values one pickle may build (every opcode that pushes counts once). Default 1,000,000.</summary>
    public int MaxPickleValues { get; init; } = 1_000_000;
}
