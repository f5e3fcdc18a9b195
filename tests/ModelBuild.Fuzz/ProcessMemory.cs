using System.Globalization;

namespace ModelBuild.Fuzz;

/// <summary>
/// The process's resident memory from /proc/self/status (managed and native alike: libtorch's tensors too). Writing 5
/// to /proc/self/clear_refs resets the peak (VmHWM) to the current RSS, so the peak of each input can be measured.
/// <see cref="FileBacked"/> is the part that maps files: libtorch's code, paged in the first time a kernel runs, which
/// is no memory an input costs.
/// </summary>
internal static class ProcessMemory
{
    public static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without it the peak is the process's since it started: a coarser bound, still a bound.
        }
    }

    public static long Resident => Read("VmRSS:");

    public static long Peak => Read("VmHWM:");

    public static long FileBacked => Read("RssFile:");

    private static long Read(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
