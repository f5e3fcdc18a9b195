using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// The native libraries this process has already loaded, found by name in <c>/proc/self/maps</c>. Opening the very
/// file libtorch was loaded from adds a reference to the same module instead of loading a second copy (a second
/// libtorch_cuda.so aborts with "Key already registered with the same priority: CUDAHooks").
/// </summary>
internal static class LoadedLibraries
{
    /// <summary>The handle of the loaded library whose file name starts with <paramref name="prefix"/>, or null.</summary>
    public static nint? Find(string prefix)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/maps"))
        {
            return null;
        }
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                continue;
            }
            var path = line[slash..];
            if (Path.GetFileName(path).StartsWith(prefix, StringComparison.Ordinal) && NativeLibrary.TryLoad(path, out var handle))
            {
                return handle;
            }
        }
        return null;
    }
}
