using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>A kernel: reads a node's arguments, returns one value per schema output (Tensor, Tensor[], long or null).</summary>
internal delegate object?[] Kernel(NodeArguments args);

/// <summary>Kernels by full target name; <c>aten.x.y</c> registers <c>torch.ops.aten.x.y</c>.</summary>
internal sealed class KernelTable : Dictionary<string, Kernel>
{
    public KernelTable()
        : base(StringComparer.Ordinal)
    {
    }

    /// <summary>An op with several outputs, or none.</summary>
    public void Multi(string target, Kernel kernel) =>
        Add(target.StartsWith("aten.", StringComparison.Ordinal) ? "torch.ops." + target : target, kernel);

    /// <summary>An op with one tensor output.</summary>
    public void Op(string target, Func<NodeArguments, Tensor> kernel) => Multi(target, a => [kernel(a)]);

    /// <summary>An op of <c>self</c> alone.</summary>
    public void Unary(string target, Func<Tensor, Tensor> kernel) => Multi(target, a => [kernel(a.Self)]);
}
