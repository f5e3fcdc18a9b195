using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>
/// libtorch's fp32 CPU convolutions checked once per process, before the first kernel runs. libtorch hands them to
/// oneDNN (mkldnn), whose AVX-512 kernels in libtorch 2.10 are wrong on some CPUs (the AMD EPYC, family 26, of the
/// development machine): a convolution of 24 input channels, or a 1x1 convolution of a channels-last input, is off by a
/// tenth of its output's scale or more, and the kernels read memory they never wrote, so that memory recycled from
/// values that are not floats shows as NaN or infinite outputs, now and then. Where a probe of those convolutions
/// disagrees with the same ones in fp64 (which libtorch never gives oneDNN), oneDNN is turned off for the process
/// (<c>at::Context::setUserEnabledMkldnn</c>, <c>torch.backends.mkldnn.enabled = False</c> in Python; NNPACK too) and
/// libtorch's own kernels run them: slower, right.
/// </summary>
internal static unsafe class LibTorchOneDnn
{
    // True when oneDNN was turned off.
    private static readonly Lazy<bool> Off = new(TurnOffWhereWrong);

    /// <summary>Runs the probe once; later calls return at once.</summary>
    public static void EnsureChecked() => _ = Off.Value;

    /// <summary>Whether libtorch's fp32 convolutions agree with fp64 on the shapes seen wrong, within fp32's rounding.</summary>
    private static bool ConvolutionsAgree()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        using var generator = new Generator(0x5EED);
        // alexnet_tiny's second convolution (a tail of 8 input channels past a block of 16), and a 1x1 convolution of
        // a channels-last input, as ConvNeXt's and PoolFormer's MLPs run them; fp32 on the CPU whatever the defaults.
        Tensor Random(params long[] shape) => randn(shape, ScalarType.Float32, CPU, generator: generator);
        var input24 = Random(1, 24, 11, 11);
        var weight24 = Random(48, 24, 5, 5);
        var channelsLast = Random(8, 3, 3, 128).permute(0, 3, 1, 2);
        var pointwise = Random(512, 128, 1, 1);
        return Agree(input24, weight24, 2) && Agree(channelsLast, pointwise, 0);

        static bool Agree(Tensor input, Tensor weight, long padding)
        {
            var fp32 = F.conv2d(input, weight, null, [1, 1], [padding, padding]).to(ScalarType.Float64);
            // The fp64 reference as im2col and a matrix product: a fp64 convolution would ask libtorch's NNPACK whether
            // it may run it, which on CPUs NNPACK does not support prints a warning to stderr.
            var kernel = (weight.shape[2], weight.shape[3]);
            var columns = F.unfold(input.to(ScalarType.Float64), kernel, (1L, 1L), (padding, padding), (1L, 1L));
            var fp64 = weight.to(ScalarType.Float64).reshape(weight.shape[0], -1).matmul(columns).reshape(fp32.shape);
            // fp32 rounding leaves errors near 1e-6 of the output's scale; the faulty kernels, 0.1 and more, or NaN.
            var error = (fp32 - fp64).abs().max().item<double>() / fp64.abs().max().item<double>();
            return error < 1e-4;
        }
    }

    private static bool TurnOffWhereWrong()
    {
        if (ConvolutionsAgree())
        {
            return false;
        }
        TurnOff();
        return ConvolutionsAgree() ? true
            : throw new InvalidOperationException("libtorch's fp32 convolutions disagree with fp64 on this CPU even without oneDNN.");
    }

    private static void TurnOff()
    {
        const string need = "libtorch's oneDNN convolutions are wrong on this CPU and must be turned off";
        nint Export(string symbol) => LibTorchCpu.Export(symbol, need);
        var globalContext = (delegate* unmanaged<nint>)Export("_ZN2at13globalContextEv");
        var setUserEnabledMkldnn = (delegate* unmanaged<nint, byte, void>)Export("_ZN2at7Context20setUserEnabledMkldnnEb");
        // Without oneDNN libtorch tries NNPACK next, which on such CPUs fails to start and says so on stderr at every
        // convolution ("Could not initialize NNPACK! Reason: Unsupported hardware"), in the app's and modelc's output.
        var setUserEnabledNnpack = (delegate* unmanaged<nint, byte, void>)Export("_ZN2at7Context20setUserEnabledNNPACKEb");
        setUserEnabledMkldnn(globalContext(), 0);
        setUserEnabledNnpack(globalContext(), 0);
    }
}
