using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuildConsole.Models;

// dotnet build compiled models/model.pt2 (the ModelCompile item in ModelBuildConsole.csproj) into an engine, checked it
// against the model at the ends of its shape ranges, embedded it in this app and generated the class Models.MyModel.
using var model = MyModel.Load();
var manifest = model.Model.Manifest;
Console.WriteLine($"{manifest.Name}: compiled for {manifest.Target.Device} {manifest.Target.Precision}, running on {string.Join(" and ", model.Model.Backends)}");
foreach (var (symbol, range) in manifest.Symbols)
{
    Console.WriteLine($"  {symbol} in {range.Min}..{range.Max}");
}

// Inputs of the sizes the engine was validated at, to show that it runs. With your own data, call the typed
// model.Run(...): its parameters are the model's inputs, and inputs outside the compiled ranges throw ModelBuildException.
var validated = manifest.Validation.FirstOrDefault(c => c.Name == "opt") ?? manifest.Validation[0];
var random = new Random(0);
var inputs = manifest.Inputs.Select((input, i) => Example(Enum.Parse<TensorDType>(input.DType), [.. validated.InputShapes[i]], random)).ToArray();
var outputs = model.Model.Run(inputs);
for (var i = 0; i < outputs.Length; i++)
{
    Console.WriteLine($"  {manifest.Outputs[i].Name}: [{string.Join(", ", outputs[i].Shape)}]");
}

// Floats from N(0, 1)-ish noise, integers and bools zero (a valid index for any embedding).
static HostTensor Example(TensorDType dtype, long[] shape, Random random)
{
    var tensor = HostTensor.Zeros(dtype, shape);
    if (dtype == TensorDType.F32)
    {
        foreach (ref var value in tensor.AsSpan<float>())
        {
            value = (float)(random.NextDouble() * 2 - 1);
        }
    }
    return tensor;
}
