using System.Diagnostics;

namespace ModelBuild.Tests;

/// <summary>
/// A tmpfs of a few KiB mounted on a temporary folder, so that "no space left on device" happens for real. Mounting
/// needs root (CI runs eng/test.sh as root); where it is impossible, the test is inconclusive and says why.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    /// <summary>The mounted folder.</summary>
    public string Path { get; }

    public static SmallDisk Mount(int kibibytes)
    {
        var path = Directory.CreateTempSubdirectory("mb-full-disk-").FullName;
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={kibibytes}k", "tmpfs", path);
        if (code != 0)
        {
            Directory.Delete(path);
            Assert.Inconclusive($"a full disk needs a small tmpfs, and 'mount -t tmpfs' failed here (root is needed; CI runs as root): {output}");
        }
        return new SmallDisk(path);
    }

    public void Dispose()
    {
        Run("umount", Path);
        Directory.Delete(Path, recursive: true);
    }

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Result + error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
