using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Engine.Safetensors;
using ModelBuild.Engine.Symbolic;
using ModelBuild.Onnx.Proto;
using ModelBuild.Export.Pt2;

namespace ModelBuild.Export.Onnx;

/// <summary>
/// An ONNX model: inputs and outputs with dtypes and dims (named dims as symbols), the default-domain opset, the nodes
/// (as <c>onnx::OpType</c> targets, for inspection; ModelBuild compiles PT2 graphs) and the initializers as weights.
/// ONNX records no ranges: <see cref="ModelGraph.RangesFromUser"/> is set and <see cref="ModelGraph.Symbols"/> is empty.
/// </summary>
public static class OnnxReader
{
    public const string Format = "onnx";

    public static ModelGraph Read(string path, ModelReaderOptions? options = null)
    {
        options ??= ModelReaderOptions.Default;
        var length = new FileInfo(path).Length;
        if (length > options.MaxArchiveBytes || length > Array.MaxLength)
        {
            throw new ModelBuildException(DiagnosticCodes.ArchiveTooLarge,
                $"The ONNX file holds {length} bytes, more than the limit of {Math.Min(options.MaxArchiveBytes, Array.MaxLength)} bytes.", path);
        }
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxMalformed, $"The file is not a valid ONNX model: {e.Message}", path, e);
        }
        var graph = model.Graph ?? throw new ModelBuildException(DiagnosticCodes.OnnxMalformed, "The ONNX model has no graph.", path);

        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).Select(v => Value(v, path)).ToList();
        var outputs = graph.Output.Select(v => Value(v, path)).ToList();
        var weights = graph.Initializer.Select(t => Initializer(t, path)).ToList();
        var nodes = graph.Node.Select(n => new GraphNode(
            string.IsNullOrEmpty(n.Domain) ? $"onnx::{n.OpType}" : $"{n.Domain}::{n.OpType}",
            n.Input.Select((name, i) => new NamedArgument(i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                name.Length == 0 ? new NoneArg() : new TensorArg(name))).ToList(),
            n.Output.Select(o => (Argument)new TensorArg(o)).ToList())).ToList();

        var values = new Dictionary<string, TensorMeta>(StringComparer.Ordinal);
        foreach (var v in graph.ValueInfo.Where(v => v.Type?.TensorType is not null).Select(v => Value(v, path)).Concat(inputs).Concat(outputs))
        {
            values[v.Name] = v.Meta;
        }
        foreach (var w in weights)
        {
            values[w.ValueName] = w.Meta;
        }

        var opset = model.OpsetImport.FirstOrDefault(o => string.IsNullOrEmpty(o.Domain) || o.Domain == "ai.onnx")?.Version;
        var torchVersion = model.ProducerName == "pytorch" ? model.ProducerVersion : null;
        return new ModelGraph
        {
            Name = Pt2LegacyArchiveReader.ModelName(path),
            Source = new SourceInfo(Format, path, FileHash.Sha256(path), torchVersion, $"opset {opset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, IR {model.IrVersion}"),
            Inputs = inputs,
            Outputs = outputs,
            Nodes = nodes,
            Weights = weights,
            Values = values,
            Symbols = new Dictionary<string, SymbolRange>(),
            Relations = [],
            RangesFromUser = true,
        };
    }

    private static GraphValue Value(ValueInfoProto v, string path)
    {
        var tensor = v.Type?.TensorType ?? throw new ModelBuildException(DiagnosticCodes.OnnxMalformed,
            $"Graph value '{v.Name}' is not a tensor; ModelBuild reads tensor inputs and outputs.", path);
        if (tensor.Shape?.Dim.Count > TensorShapes.MaxRank)
        {
            throw new ModelBuildException(DiagnosticCodes.TensorSizeInvalid,
                $"Graph value '{v.Name}' has {tensor.Shape.Dim.Count} dims, more than the {TensorShapes.MaxRank} ModelBuild reads.", path);
        }
        var dims = tensor.Shape?.Dim.Select((d, i) => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dim.Of(d.DimValue),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dim.Symbolic(DimParam(d.DimParam)),
            _ => Dim.Symbolic($"{Identifier(v.Name)}_dim{i}"),
        }).ToList() ?? [];
        StoredTensor.CheckSizes(dims.Where(d => d.IsStatic).Select(d => d.Value!.Value), $"Graph value '{v.Name}'", path);
        return new GraphValue(v.Name, new TensorMeta(DType(tensor.ElemType, v.Name, path), dims));
    }

    /// <summary>A named dim in str form when it is an expression ModelBuild reads (<c>s77</c>, <c>8*s69</c>), else a safe identifier.</summary>
    private static string DimParam(string param)
    {
        try
        {
            return SymExpr.Parse(param).ToString();
        }
        catch (ModelBuildException)
        {
            return Identifier(param);
        }
    }

    private static string Identifier(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        var id = new string(chars);
        return id.Length == 0 || char.IsAsciiDigit(id[0]) ? "_" + id : id;
    }

    private static Weight Initializer(TensorProto t, string path)
    {
        var dtype = DType(t.DataType, t.Name, path);
        var sizes = t.Dims.ToList();
        StoredTensor.CheckSizes(sizes, $"Initializer '{t.Name}'", path);
        var meta = new TensorMeta(dtype, sizes.Select(Dim.Of).ToList());
        var count = sizes.Aggregate(1L, (a, b) => a * b);
        return new Weight(t.Name, t.Name, WeightKind.Parameter, meta, () => InitializerBytes(t, dtype, count, path));
    }

    private static ReadOnlyMemory<byte> InitializerBytes(TensorProto t, TensorDType dtype, long count, string path)
    {
        if (t.DataLocation == 1 || t.ExternalData.Count > 0)
        {
            throw new ModelBuildException(DiagnosticCodes.OnnxMalformed,
                $"Initializer '{t.Name}' is stored in an external file; save the ONNX model with its weights inside.", path);
        }
        var expected = count * dtype.ElementSize();
        byte[] bytes = t.HasRawData ? t.RawData.ToByteArray()
            : dtype switch
            {
                TensorDType.F32 => MemoryMarshal.AsBytes(t.FloatData.ToArray().AsSpan()).ToArray(),
                TensorDType.F64 => MemoryMarshal.AsBytes(t.DoubleData.ToArray().AsSpan()).ToArray(),
                TensorDType.I64 => MemoryMarshal.AsBytes(t.Int64Data.ToArray().AsSpan()).ToArray(),
                TensorDType.I32 => MemoryMarshal.AsBytes(t.Int32Data.ToArray().AsSpan()).ToArray(),
                TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => t.Int32Data.SelectMany(v => BitConverter.GetBytes((ushort)v)).ToArray(),
                _ => t.Int32Data.Select(v => (byte)v).ToArray(),
            };
        if (bytes.LongLength != expected)
        {
            throw new ModelBuildException(DiagnosticCodes.WeightDataMismatch,
                $"Initializer '{t.Name}' holds {bytes.LongLength} bytes but its dims need {expected}.", path);
        }
        return bytes;
    }

    private static TensorDType DType(int onnxType, string name, string path) => onnxType switch
    {
        1 => TensorDType.F32,
        2 => TensorDType.U8,
        3 => TensorDType.I8,
        5 => TensorDType.I16,
        6 => TensorDType.I32,
        7 => TensorDType.I64,
        9 => TensorDType.BOOL,
        10 => TensorDType.F16,
        11 => TensorDType.F64,
        16 => TensorDType.BF16,
        _ => throw new ModelBuildException(DiagnosticCodes.DTypeUnsupported,
            $"'{name}' has ONNX element type {onnxType}; ModelBuild handles float, double, float16, bfloat16, int64/32/16/8, uint8 and bool.", path),
    };
}
