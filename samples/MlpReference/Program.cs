using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using static TorchSharp.torch;

// Runs the MLP fixture's TorchScript through TorchSharp and prints its error against PyTorch's own outputs.
var fixture = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "../../../../../shared/fixtures/public/mlp");
var cases = SafetensorsFile.Read(Path.Combine(fixture, "cases.safetensors"));
using var module = jit.load(Path.Combine(fixture, "model.ts.pt"));
module.eval();
var worst = 0f;
foreach (var name in cases.Tensors.Keys.Where(k => k.EndsWith(".in.0", StringComparison.Ordinal)).Select(k => k[..^5]))
{
    using var scope = NewDisposeScope();
    var output = (Tensor)module.forward(cases.ToTensor($"{name}.in.0"));
    var error = (output - cases.ToTensor($"{name}.out.0")).abs().max().item<float>();
    Console.WriteLine($"mlp {name,-4} input [{string.Join(", ", cases.Tensors[$"{name}.in.0"].Shape)}]  max abs error {error:E2}");
    worst = Math.Max(worst, error);
}
Console.WriteLine($"mlp: max abs error {worst:E2} against PyTorch 2.11 ({(worst <= 1e-4f ? "ok" : "FAILED")})");
return worst <= 1e-4f ? 0 : 1;
