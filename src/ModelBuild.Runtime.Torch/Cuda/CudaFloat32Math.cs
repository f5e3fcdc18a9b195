using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Cuda;

/// <summary>
/// An fp32 engine is validated at fp32 tolerance (1e-4), but libtorch lets cuDNN run fp32 convolutions in TF32
/// (10-bit mantissa, errors near 1e-3) unless told otherwise. Loading an fp32 engine onto CUDA therefore turns TF32
/// off for cuDNN and cuBLAS. These are libtorch's process-wide switches (PyTorch's torch.backends.cudnn.allow_tf32
/// and torch.backends.cuda.matmul.allow_tf32): an app that wants TF32 for its other work sets them back after loading.
/// </summary>
internal static class CudaFloat32Math
{
    public static void RequireFullPrecision()
    {
        backends.cudnn.allow_tf32 = false;
        backends.cuda.matmul.allow_tf32 = false;
    }
}
