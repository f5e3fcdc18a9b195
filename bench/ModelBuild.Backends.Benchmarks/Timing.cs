using System.Diagnostics;

namespace ModelBuild.Backends.Benchmarks;

/// <summary>Warm-up, then run times of an action: up to a number of runs or a time budget.</summary>
internal static class Timing
{
    /// <summary>How long one turn of a runtime lasts at least.</summary>
    public static readonly TimeSpan MinimumTurn = TimeSpan.FromMilliseconds(50);

    /// <summary>At least 10 runs and 0.3 s: allocators, caches and thread pools settle.</summary>
    public static void WarmUp(Action action)
    {
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < 10 || warming.Elapsed.TotalSeconds < 0.3; i++)
        {
            action();
        }
    }

    /// <summary>
    /// Microseconds per run, of <paramref name="runs"/> runs or more until <see cref="MinimumTurn"/> has passed, stopping
    /// at <paramref name="seconds"/> (at least 3 runs), after one untimed run. A model of a few microseconds ran its 40
    /// runs in a tenth of a millisecond, so its median followed whatever the host did in that instant: the same engine
    /// measured 1.07x and 1.45x ONNX Runtime in two runs on the GPU machine's host.
    /// </summary>
    public static List<double> Samples(Action action, int runs, double seconds)
    {
        action();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while ((samples.Count < runs || total.Elapsed < MinimumTurn) && (samples.Count < 3 || total.Elapsed.TotalSeconds < seconds))
        {
            var start = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        return samples;
    }
}
