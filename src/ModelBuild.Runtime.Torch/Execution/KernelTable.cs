using ModelBuild.Engine.Graph;
using static TorchSharp.torch;

namespace ModelBuild.Runtime.Torch.Execution;

/// <summary>A kernel: reads a node's arguments, returns one value per schema output (Tensor, Tensor[], long or null).</summary>
internal delegate object?[] Kernel(NodeArguments args);

/// <summary>
/// A kernel's capability check (Torch-TensorRT's capability validators): why it cannot run <paramref name="node"/>, read
/// from the node's constant arguments alone, or null when it can. The lowering check and the partitioner ask it per node.
/// </summary>
internal delegate string? KernelCheck(GraphNode node);

/// <summary>Kernels by full target name; <c>aten.x.y</c> registers <c>torch.ops.aten.x.y</c>.</summary>
internal sealed class KernelTable : Dictionary<string, Kernel>
{
    public KernelTable()
        : base(StringComparer.Ordinal)
    {
    }

    /// <summary>The checks of the kernels that implement only some argument values.</summary>
    public Dictionary<string, KernelCheck> Checks { get; } = new(StringComparer.Ordinal);

    /// <summary>An op with several outputs, or none.</summary>
    public void Multi(string target, Kernel kernel, KernelCheck? check = null)
    {
        var full = target.StartsWith("aten.", StringComparison.Ordinal) ? "torch.ops." + target : target;
        Add(full, kernel);
        if (check is not null)
        {
            Checks.Add(full, check);
        }
    }

    /// <summary>An op with one tensor output.</summary>
    public void Op(string target, Func<NodeArguments, Tensor> kernel, KernelCheck? check = null) => Multi(target, a => [kernel(a)], check);

    /// <summary>An op of <c>self</c> alone.</summary>
    public void Unary(string target, Func<Tensor, Tensor> kernel) => Multi(target, a => [kernel(a.Self)]);
}
