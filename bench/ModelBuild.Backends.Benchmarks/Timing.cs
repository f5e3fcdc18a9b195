using System.Diagnostics;

namespace ModelBuild.Backends.Benchmarks;

/// <summary>Warm-up, then run times of an action: up to a number of runs or a time budget.</summary>
internal static class Timing
{
    /// <summary>At least 10 runs and 0.3 s: allocators, caches and thread pools settle.</summary>
    public static void WarmUp(Action action)
    {
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < 10 || warming.Elapsed.TotalSeconds < 0.3; i++)
        {
            action();
        }
    }

    /// <summary>Microseconds per run, of up to <paramref name="runs"/> runs or <paramref name="seconds"/> (at least 3 runs), after one untimed run.</summary>
    public static List<double> Samples(Action action, int runs, double seconds)
    {
        action();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < runs && (samples.Count < 3 || total.Elapsed.TotalSeconds < seconds))
        {
            var start = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        return samples;
    }
}
