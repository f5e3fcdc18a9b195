using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Runtime;
using ModelBuild.Runtime.Torch;
using ModelBuild.Runtime.Benchmarks;
using static TorchSharp.torch;

// Usage: ModelBuild.Runtime.Benchmarks <fixtures-dir> <engines-dir> <markdown-out> <chart-out.png> [threads]
// <engines-dir>/<model>.engine are compiled beforehand by `modelc compile` (bench/run-runtime-benchmarks.sh).
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: ModelBuild.Runtime.Benchmarks <fixtures-dir> <engines-dir> <markdown-out> <chart-out.png> [threads]");
    return 2;
}
var (fixtures, engines, markdownPath, chartPath) = (args[0], args[1], args[2], args[3]);
var threads = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 2;
set_num_threads(threads);
using var inference = inference_mode();

var rows = new List<FixtureTimes>();
foreach (var dir in Directory.GetDirectories(fixtures).Order(StringComparer.Ordinal))
{
    var name = Path.GetFileName(dir);
    var enginePath = Path.Combine(engines, name + ".engine");
    if (!File.Exists(enginePath))
    {
        Console.Error.WriteLine($"{name}: no engine at {enginePath}, skipped");
        continue;
    }
    var cases = SafetensorsFile.Read(Path.Combine(dir, "cases.safetensors"));
    var caseName = cases.Tensors.ContainsKey("opt.in.0") ? "opt" : cases.Tensors.Keys.First()[..cases.Tensors.Keys.First().IndexOf('.')];
    var inputNames = cases.Tensors.Keys.Where(k => k.StartsWith(caseName + ".in.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
    var inputs = inputNames.Select(cases.ToTensor).ToArray();
    var row = new FixtureTimes(name, caseName);

    var engineBytes = File.ReadAllBytes(enginePath);
    row.EngineLoadMs = Timing.MedianMicroseconds(() =>
    {
        using var model = CompiledModel.Load(new MemoryStream(engineBytes));
        DisposeAll(model.Run(inputs));
    }, warmup: 1, iterations: 10) / 1000;
    using (var model = CompiledModel.Load(new MemoryStream(engineBytes)))
    {
        row.EngineUs = Timing.MedianMicroseconds(() => DisposeAll(model.Run(inputs)));
    }

    var tsPath = Path.Combine(dir, "model.ts.pt");
    row.JitLoadMs = Timing.MedianMicroseconds(() =>
    {
        using var module = jit.load(tsPath);
        DisposeResult(module.call(inputs.Cast<object>().ToArray()));
    }, warmup: 1, iterations: 10) / 1000;
    using (var module = jit.load(tsPath))
    {
        row.JitUs = Timing.MedianMicroseconds(() => DisposeResult(module.call(inputs.Cast<object>().ToArray())));
    }

    try
    {
        var onnxBytes = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        row.OrtLoadMs = Timing.MedianMicroseconds(() =>
        {
            using var session = new InferenceSession(onnxBytes, options);
            using var results = session.Run(OrtInputs(session, inputs));
        }, warmup: 1, iterations: 10) / 1000;
        using var warm = new InferenceSession(onnxBytes, options);
        var ortInputs = OrtInputs(warm, inputs);
        row.OrtUs = Timing.MedianMicroseconds(() => { using var r = warm.Run(ortInputs); });
    }
    catch (OnnxRuntimeException e)
    {
        row.OrtError = e.Message.Split('\n')[0];
    }
    Console.WriteLine(row);
    rows.Add(row);
    DisposeAll(inputs);
}

var overhead = ExecutorOverhead.MeasureMicrosecondsPerOp(nodes: 200);
Console.WriteLine($"executor overhead: {overhead:F2} us per op");
File.WriteAllText(markdownPath, Report.Markdown(rows, overhead, threads));
Report.Chart(rows, chartPath);
return 0;

static List<NamedOnnxValue> OrtInputs(InferenceSession session, Tensor[] inputs) =>
    session.InputMetadata.Keys.Zip(inputs, (name, t) => t.dtype == ScalarType.Int64
        ? NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(t.data<long>().ToArray(), t.shape.Select(d => (int)d).ToArray()))
        : NamedOnnxValue.CreateFromTensor(name, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(t.data<float>().ToArray(), t.shape.Select(d => (int)d).ToArray()))).ToList();

static void DisposeAll(IEnumerable<Tensor> tensors)
{
    foreach (var t in tensors)
    {
        t.Dispose();
    }
}

static void DisposeResult(object result)
{
    switch (result)
    {
        case Tensor t: t.Dispose(); break;
        case IEnumerable<object> items: foreach (var i in items) { DisposeResult(i); } break;
    }
}

internal sealed record FixtureTimes(string Model, string Case)
{
    public double EngineUs { get; set; }
    public double JitUs { get; set; }
    public double OrtUs { get; set; } = double.NaN;
    public double EngineLoadMs { get; set; }
    public double JitLoadMs { get; set; }
    public double OrtLoadMs { get; set; } = double.NaN;
    public string? OrtError { get; set; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Model,-20} {Case,-6} engine {EngineUs,9:F1} us  jit {JitUs,9:F1} us  ort {OrtUs,9:F1} us | load engine {EngineLoadMs,7:F2} ms  jit {JitLoadMs,7:F2} ms  ort {OrtLoadMs,7:F2} ms {OrtError}");
}
