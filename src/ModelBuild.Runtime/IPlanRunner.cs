using static TorchSharp.torch;

namespace ModelBuild.Runtime;

/// <summary>What runs an engine's plan once its inputs are checked: thread-safe; the caller owns the outputs.</summary>
internal interface IPlanRunner : IDisposable
{
    Tensor[] Run(IReadOnlyList<Tensor> inputs);
}
