using System.Runtime.InteropServices;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// The compute capability of a CUDA device ("9.0" for an H100 or H200), asked of the CUDA driver API, which every
/// machine with an NVIDIA driver has (libcuda.so.1, nvcuda.dll). TorchSharp does not expose it, and the driver's
/// three calls are stable across CUDA versions, unlike libtorch's or the runtime library's names.
/// </summary>
public static class CudaComputeCapability
{
    private const int AttributeMajor = 75; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    private const int AttributeMinor = 76; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

    [UnmanagedFunctionPointer(CallingConvention.Winapi)]
    private delegate int CuInit(uint flags);

    [UnmanagedFunctionPointer(CallingConvention.Winapi)]
    private delegate int CuDeviceGet(out int device, int ordinal);

    [UnmanagedFunctionPointer(CallingConvention.Winapi)]
    private delegate int CuDeviceGetAttribute(out int value, int attribute, int device);

    /// <returns>"major.minor", or null where there is no CUDA driver or no such device.</returns>
    public static string? Of(int deviceIndex)
    {
        if (!NativeLibrary.TryLoad(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", out var driver))
        {
            return null;
        }
        try
        {
            if (!NativeLibrary.TryGetExport(driver, "cuInit", out var init)
                || !NativeLibrary.TryGetExport(driver, "cuDeviceGet", out var deviceGet)
                || !NativeLibrary.TryGetExport(driver, "cuDeviceGetAttribute", out var getAttribute))
            {
                return null;
            }
            var attribute = Marshal.GetDelegateForFunctionPointer<CuDeviceGetAttribute>(getAttribute);
            return Marshal.GetDelegateForFunctionPointer<CuInit>(init)(0) == 0
                && Marshal.GetDelegateForFunctionPointer<CuDeviceGet>(deviceGet)(out var device, deviceIndex) == 0
                && attribute(out var major, AttributeMajor, device) == 0
                && attribute(out var minor, AttributeMinor, device) == 0
                ? Format(major, minor)
                : null;
        }
        finally
        {
            NativeLibrary.Free(driver);
        }
    }

    /// <summary>The manifest's spelling of a capability: "9.0", "8.6".</summary>
    public static string Format(int major, int minor) => FormattableString.Invariant($"{major}.{minor}");
}
