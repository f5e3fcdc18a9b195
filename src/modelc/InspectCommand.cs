using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ModelBuild.Compiler;
using ModelBuild.Compiler.Backends;
using ModelBuild.Engine.Container;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Export;

namespace ModelBuild.Cli;

/// <summary>
/// <c>modelc inspect &lt;file&gt; [--json]</c>: what a model file holds (format and versions, inputs and outputs with
/// their dims, symbols with ranges, relations, the op histogram, weights). The JSON form is documented in
/// docs/modelc-inspect.md; its <c>schemaVersion</c> changes only when a field changes meaning or goes away.
/// </summary>
internal static class InspectCommand
{
    public const int JsonSchemaVersion = 1;

    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "A model (PT2 archive, TorchScript, ONNX) or a ModelBuild engine." };
        var json = new Option<bool>("--json") { Description = "Print JSON (schema in docs/modelc-inspect.md) instead of text." };
        var partition = new Option<bool>("--partition")
        {
            Description = "Also show the blocks a compile would cut (which backend runs which nodes) and why each node the preferred backend does not run stays off it.",
        };
        var dot = new Option<FileInfo?>("--dot") { Description = "Write a Graphviz picture of the blocks (of the partition, or of an engine's plan), coloured by backend, to this file." };
        var backend = new Option<string>("--backend") { Description = "The backend the partition is for: auto (ONNX Runtime where nodes lower, on the CPU), torch, onnxruntime.", DefaultValueFactory = _ => "auto" };
        var command = new Command("inspect", "Show a model's inputs, outputs, symbolic dims and ranges, ops and weights.") { file, json, partition, dot, backend };
        command.SetAction(parse => CommandErrors.Run(parse.GetValue(file)!.FullName, () =>
        {
            var path = parse.GetValue(file)!.FullName;
            var dotFile = parse.GetValue(dot);
            if (EngineInspection.IsEngine(path))
            {
                var engine = EngineFile.Read(SafetensorsFile.ReadAllBytes(path), path, runtimeVersion: null);
                Console.Out.Write(parse.GetValue(json) ? EngineInspection.Json(engine, path) : EngineInspection.Text(engine, path));
                if (dotFile is not null)
                {
                    OutputFile.Write(dotFile.FullName, Encoding.UTF8.GetBytes(PartitionInspection.Dot(engine, $"{engine.Manifest.Name}: engine plan")));
                }
                return 0;
            }
            var graph = ModelReader.Read(path);
            var split = parse.GetValue(partition) || dotFile is not null
                ? ModelCompiler.Partition(new CompileOptions(path) { Backend = parse.GetValue(backend)! })
                : null;
            if (parse.GetValue(json))
            {
                Console.Out.Write(Json(graph, split));
            }
            else
            {
                Console.Out.Write(Text(graph) + (split is null ? "" : PartitionInspection.Text(split)));
            }
            if (dotFile is not null)
            {
                OutputFile.Write(dotFile.FullName, Encoding.UTF8.GetBytes(PartitionInspection.Dot(split!, $"{graph.Name} ({Path.GetFileName(path)}): {split!.Candidate} partition")));
            }
            return 0;
        }));
        return command;
    }

    public static string Json(ModelGraph graph, ModelPartition? partition = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", JsonSchemaVersion);
            w.WriteString("file", graph.Source.File);
            w.WriteString("sha256", graph.Source.Sha256);
            w.WriteString("name", graph.Name);
            w.WriteString("format", graph.Source.Format);
            w.WriteString("formatVersion", graph.Source.SchemaVersion);
            w.WriteString("torchVersion", graph.Source.TorchVersion);
            w.WriteBoolean("rangesFromUser", graph.RangesFromUser);
            WriteValues(w, "inputs", graph.Inputs);
            WriteValues(w, "outputs", graph.Outputs);
            w.WriteStartArray("symbols");
            foreach (var (name, range) in graph.Symbols.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteNumber("min", range.Min);
                WriteMax(w, range.Max);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("relations");
            foreach (var r in graph.Relations)
            {
                w.WriteStartObject();
                w.WriteString("expr", r.Expr);
                w.WriteNumber("min", r.Min);
                WriteMax(w, r.Max);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (graph.ExampleInputShapes is { } shapes)
            {
                w.WriteStartArray("exampleInputShapes");
                foreach (var shape in shapes)
                {
                    w.WriteStartArray();
                    foreach (var d in shape)
                    {
                        w.WriteNumberValue(d);
                    }
                    w.WriteEndArray();
                }
                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("exampleInputShapes");
            }
            w.WriteNumber("nodeCount", graph.Nodes.Count);
            w.WriteStartObject("ops");
            foreach (var (op, count) in Histogram(graph))
            {
                w.WriteNumber(op, count);
            }
            w.WriteEndObject();
            w.WriteStartObject("weights");
            w.WriteNumber("count", graph.Weights.Count);
            w.WriteNumber("bytes", WeightBytes(graph));
            w.WriteEndObject();
            if (partition is not null)
            {
                w.WritePropertyName("partition");
                PartitionInspection.Json(partition).WriteTo(w);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + Environment.NewLine;
    }

    public static string Text(ModelGraph graph)
    {
        var s = graph.Source;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{s.File}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  format   {s.Format} ({s.SchemaVersion ?? "version not recorded"}){(s.TorchVersion is null ? "" : $", torch {s.TorchVersion}")}, model '{graph.Name}'");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  sha256   {s.Sha256}");
        sb.AppendLine("inputs");
        AppendValues(sb, graph.Inputs, s.Format == Export.TorchScript.TorchScriptReader.Format ? "(rank and sizes not recorded)" : null);
        sb.AppendLine("outputs");
        AppendValues(sb, graph.Outputs, null);
        if (graph.Outputs.Count == 0)
        {
            sb.AppendLine("  (not recorded by this format)");
        }
        sb.AppendLine("symbols");
        foreach (var (name, range) in graph.Symbols.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {name,-12} {Range(range.Min, range.Max)}");
        }
        if (graph.RangesFromUser)
        {
            sb.AppendLine($"  (none recorded: {s.Format} keeps no ranges; give them with --shape <input>:<dim>=<min>..<opt>..<max>)");
        }
        else if (graph.Symbols.Count == 0)
        {
            sb.AppendLine("  (none: every dim is static)");
        }
        if (graph.Relations.Count > 0)
        {
            sb.AppendLine("relations");
            foreach (var r in graph.Relations)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {r.Expr,-12} {Range(r.Min, r.Max)}");
            }
        }
        if (graph.ExampleInputShapes is { } shapes)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"example inputs  {string.Join(", ", shapes.Select(x => $"[{string.Join(", ", x)}]"))}");
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"ops ({graph.Nodes.Count} nodes{(graph.Nodes.WithNested().Count() > graph.Nodes.Count ? $", {graph.Nodes.WithNested().Count() - graph.Nodes.Count} more in subgraphs" : "")})");
        foreach (var (op, count) in Histogram(graph))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {count,5}  {op}");
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"weights  {graph.Weights.Count} tensors, {WeightBytes(graph)} bytes");
        return sb.ToString();
    }

    private static void WriteValues(Utf8JsonWriter w, string property, IReadOnlyList<GraphValue> values)
    {
        w.WriteStartArray(property);
        foreach (var v in values)
        {
            w.WriteStartObject();
            w.WriteString("name", v.Name);
            w.WriteString("dtype", v.Meta.DType.ToString());
            w.WriteStartArray("dims");
            foreach (var d in v.Meta.Sizes)
            {
                if (d.IsStatic)
                {
                    w.WriteNumberValue(d.Value!.Value);
                }
                else
                {
                    w.WriteStringValue(d.Expr);
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteMax(Utf8JsonWriter w, long? max)
    {
        if (max is long m)
        {
            w.WriteNumber("max", m);
        }
        else
        {
            w.WriteNull("max");
        }
    }

    private static void AppendValues(StringBuilder sb, IReadOnlyList<GraphValue> values, string? unknownSizes)
    {
        foreach (var v in values)
        {
            var dims = unknownSizes ?? $"[{string.Join(", ", v.Meta.Sizes)}]";
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {v.Name,-12} {v.Meta.DType,-5} {dims}");
        }
    }

    private static string Range(long min, long? max) => $"{min}..{(max?.ToString(CultureInfo.InvariantCulture) ?? "unbounded")}";

    /// <summary>Every operator the model uses, in its subgraphs too (a higher-order operator's body needs kernels like the rest).</summary>
    private static IEnumerable<(string Op, int Count)> Histogram(ModelGraph graph) =>
        graph.Nodes.WithNested().GroupBy(n => n.Target).Select(g => (g.Key, g.Count())).OrderBy(x => x.Key, StringComparer.Ordinal);

    private static long WeightBytes(ModelGraph graph) =>
        graph.Weights.Sum(w => w.Meta.Sizes.Aggregate(1L, (a, d) => a * (d.Value ?? 0)) * w.Meta.DType.ElementSize());
}
