namespace ModelBuild.Cli;

/// <summary>Per-run wall times in microseconds and their order statistics (nearest rank).</summary>
internal sealed class LatencySamples(IReadOnlyList<double> microseconds)
{
    private readonly double[] _sorted = [.. microseconds.Order()];

    public int Count => _sorted.Length;

    public double Median => Percentile(50);

    /// <summary>The smallest sample with at least <paramref name="p"/> percent of the samples at or below it.</summary>
    public double Percentile(double p)
    {
        if (_sorted.Length == 0)
        {
            throw new InvalidOperationException("No samples.");
        }
        var rank = (int)Math.Ceiling(p / 100 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }
}
