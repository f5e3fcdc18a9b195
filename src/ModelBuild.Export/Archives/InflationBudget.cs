using ModelBuild.Diagnostics;

namespace ModelBuild.Export.Archives;

/// <summary>
/// The bytes one model file may inflate to, shared by the archive and every archive nested in it: at most
/// <see cref="ModelReaderOptions.MaxCompressionRatio"/> times the file's size (at least <see cref="MinimumBytes"/>),
/// and at most <see cref="ModelReaderOptions.MaxArchiveBytes"/>. An entry is charged its declared size before it is
/// inflated, so a compression bomb is refused having cost a look at the central directory. Sharing the budget is what
/// stops a bomb nested in a bomb from multiplying the two ratios.
/// </summary>
internal sealed class InflationBudget
{
    /// <summary>Small files may always inflate this much (a zero-filled buffer compresses a thousandfold).</summary>
    public const long MinimumBytes = 1 << 20;

    private readonly long _limit;
    private readonly long _fileBytes;
    private readonly int _ratio;
    private long _spent;

    private InflationBudget(long limit, long fileBytes, int ratio)
    {
        _limit = limit;
        _fileBytes = fileBytes;
        _ratio = ratio;
    }

    public static InflationBudget For(long fileBytes, ModelReaderOptions options, string file)
    {
        if (options.MaxCompressionRatio < 1)
        {
            throw new ArgumentException($"MaxCompressionRatio must be at least 1 (reading {file}).", nameof(options));
        }
        var byRatio = fileBytes > long.MaxValue / options.MaxCompressionRatio ? long.MaxValue : fileBytes * options.MaxCompressionRatio;
        return new InflationBudget(Math.Min(options.MaxArchiveBytes, Math.Max(MinimumBytes, byRatio)), fileBytes, options.MaxCompressionRatio);
    }

    /// <summary>Takes <paramref name="bytes"/> from the budget, or refuses the entry (MB1017) when they are not there.</summary>
    public void Charge(long bytes, string entry, string file)
    {
        if (bytes > _limit - _spent)
        {
            throw new ModelBuildException(DiagnosticCodes.ArchiveInflationExceeded,
                $"The entry '{entry}' inflates to {bytes} bytes, and with the {_spent} inflated before it the file would exceed {_limit} bytes: {_ratio} times its {_fileBytes} bytes (ModelReaderOptions.MaxCompressionRatio) or at least {MinimumBytes}. This is the shape of a compression bomb; the entry was not inflated.", file);
        }
        _spent += bytes;
    }
}
