using TorchSharp;
using static TorchSharp.torch;

namespace ModelBuild.Runtime;

/// <summary>Runs an engine compiled from TorchScript: the module is loaded once (from a temporary file, which libtorch reads reliably) and its forward called.</summary>
internal sealed class TorchScriptRunner : IPlanRunner
{
    private readonly jit.ScriptModule _module;

    public TorchScriptRunner(ReadOnlySpan<byte> moduleBytes, Device device)
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelbuild-{Guid.NewGuid():N}.pt");
        try
        {
            using (var file = File.Create(path))
            {
                file.Write(moduleBytes);
            }
            _module = jit.load(path, device);
            _module.eval();
        }
        finally
        {
            File.Delete(path);
        }
    }

    public Tensor[] Run(IReadOnlyList<Tensor> inputs)
    {
        using var noGrad = no_grad();
        return TorchScriptOutputs.Flatten(_module.forward([.. inputs]));
    }

    public void Dispose() => _module.Dispose();
}
