using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// libtorch's autocast state (<c>at::autocast</c>), which TorchSharp does not wrap: what <c>torch.autocast</c> sets on
/// entry and restores on exit. The state is per thread, like the executor's run. The functions are C++ exports of
/// libtorch_cpu, found by their Itanium-mangled names (Linux, macOS).
/// </summary>
internal static unsafe class LibTorchAutocast
{
    private static readonly Lazy<Functions> Native = new(Load);

    /// <summary>Autocast on <paramref name="deviceType"/> (cpu, cuda) to <paramref name="dtype"/> until the result is disposed.</summary>
    public static IDisposable Enter(string deviceType, ScalarType dtype, bool enabled)
    {
        var f = Native.Value;
        sbyte device = deviceType.StartsWith("cuda", StringComparison.Ordinal) ? (sbyte)1 : deviceType == "cpu" ? (sbyte)0
            : throw new InvalidOperationException($"autocast on device type '{deviceType}' is not supported (cpu, cuda).");
        var wasEnabled = f.IsEnabled(device);
        var previousDtype = f.GetDtype(device);
        f.SetEnabled(device, enabled ? (byte)1 : (byte)0);
        f.SetDtype(device, (sbyte)dtype);
        f.IncrementNesting();
        return new Region(f, device, wasEnabled, previousDtype);
    }

    private sealed class Region(Functions f, sbyte device, byte wasEnabled, sbyte previousDtype) : IDisposable
    {
        public void Dispose()
        {
            // As torch.autocast's __exit__: the cast cache lives while any autocast region is open.
            if (f.DecrementNesting() == 0)
            {
                f.ClearCache();
            }
            f.SetEnabled(device, wasEnabled);
            f.SetDtype(device, previousDtype);
        }
    }

    private sealed class Functions
    {
        public required delegate* unmanaged<sbyte, byte> IsEnabled;
        public required delegate* unmanaged<sbyte, byte, void> SetEnabled;
        public required delegate* unmanaged<sbyte, sbyte> GetDtype;
        public required delegate* unmanaged<sbyte, sbyte, void> SetDtype;
        public required delegate* unmanaged<int> IncrementNesting;
        public required delegate* unmanaged<int> DecrementNesting;
        public required delegate* unmanaged<void> ClearCache;
    }

    private static Functions Load()
    {
        nint Export(string symbol) => LibTorchCpu.Export(symbol, "autocast regions need libtorch's autocast functions");
        return new Functions
        {
            IsEnabled = (delegate* unmanaged<sbyte, byte>)Export("_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE"),
            SetEnabled = (delegate* unmanaged<sbyte, byte, void>)Export("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb"),
            GetDtype = (delegate* unmanaged<sbyte, sbyte>)Export("_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE"),
            SetDtype = (delegate* unmanaged<sbyte, sbyte, void>)Export("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"),
            IncrementNesting = (delegate* unmanaged<int>)Export("_ZN2at8autocast17increment_nestingEv"),
            DecrementNesting = (delegate* unmanaged<int>)Export("_ZN2at8autocast17decrement_nestingEv"),
            ClearCache = (delegate* unmanaged<void>)Export("_ZN2at8autocast11clear_cacheEv"),
        };
    }
}
