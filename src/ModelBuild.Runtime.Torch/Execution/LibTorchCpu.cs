using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// C++ exports of the libtorch_cpu this process loaded, by their Itanium-mangled names (Linux, macOS), for the few
/// libtorch functions TorchSharp does not wrap. Any tensor op has loaded libtorch before these are asked for.
/// </summary>
internal static class LibTorchCpu
{
    private static readonly string Name = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";

    /// <summary>The address of <paramref name="symbol"/>; <paramref name="need"/> (what it is for) begins the error when it is missing.</summary>
    public static nint Export(string symbol, string need)
    {
        if (!NativeLibrary.TryLoad(Name, typeof(LibTorchCpu).Assembly, null, out var library))
        {
            throw new InvalidOperationException($"{need}, and {Name} could not be opened.");
        }
        return NativeLibrary.TryGetExport(library, symbol, out var address) ? address
            : throw new InvalidOperationException($"{need}, and {Name} does not export {symbol}.");
    }
}
