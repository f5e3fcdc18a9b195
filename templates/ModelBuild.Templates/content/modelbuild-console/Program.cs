using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuildConsole.Models;
using static TorchSharp.torch;

// dotnet build compiled models/model.pt2 (the ModelCompile item in ModelBuildConsole.csproj) into an engine, checked it
// against the model at the ends of its shape ranges, embedded it in this app and generated the class Models.MyModel.
using var model = MyModel.Load();
var manifest = model.Model.Manifest;
Console.WriteLine($"{manifest.Name}: compiled for {manifest.Target.Device} {manifest.Target.Precision}");
foreach (var (symbol, range) in manifest.Symbols)
{
    Console.WriteLine($"  {symbol} in {range.Min}..{range.Max}");
}

// Inputs of the sizes the engine was validated at, to show that it runs. With your own data, call the typed
// model.Run(...): its parameters are the model's inputs, and inputs outside the compiled ranges throw ModelBuildException.
var validated = manifest.Validation.FirstOrDefault(c => c.Name == "opt") ?? manifest.Validation[0];
using var scope = NewDisposeScope();
var inputs = manifest.Inputs.Select((input, i) => Example(input.DType, [.. validated.InputShapes[i]])).ToArray();
var outputs = model.Model.Run(inputs);
for (var i = 0; i < outputs.Length; i++)
{
    Console.WriteLine($"  {manifest.Outputs[i].Name}: [{string.Join(", ", outputs[i].shape)}]");
}

static Tensor Example(string dtype, long[] shape)
{
    var type = Enum.Parse<TensorDType>(dtype).ToScalarType();
    return is_floating_point(type) ? randn(shape, type) : zeros(shape, type);
}
