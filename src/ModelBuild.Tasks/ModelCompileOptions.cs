using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ModelBuild.Diagnostics;

namespace ModelBuild.Tasks;

/// <summary>
/// What one ModelCompile item asks modelc for, validated and normalized: equal options give equal
/// <see cref="Canonical"/> text (order of shapes, case of device, spelling of the tolerance do not matter),
/// so the text can go into cache keys and stamp files.
/// </summary>
public sealed class ModelCompileOptions
{
    private static readonly string[] Devices = { "cpu", "cuda" };
    private static readonly string[] Precisions = { "fp32", "fp16", "bf16" };
    private static readonly string[] Backends = { "auto", "torch", "onnxruntime" };

    private ModelCompileOptions(string device, string precision, IReadOnlyList<ShapeRangeOption> shapes, double? tolerance, string name,
        string backend, int? minBlockSize, IReadOnlyList<string> torchExecutedOps)
    {
        Device = device;
        Precision = precision;
        Shapes = shapes;
        Tolerance = tolerance;
        Name = name;
        Backend = backend;
        MinBlockSize = minBlockSize;
        TorchExecutedOps = torchExecutedOps;
    }

    public string Device { get; }
    public string Precision { get; }
    /// <summary>Sorted by input, then dim.</summary>
    public IReadOnlyList<ShapeRangeOption> Shapes { get; }
    /// <summary>Null: modelc's default.</summary>
    public double? Tolerance { get; }
    /// <summary>The model name written into the manifest.</summary>
    public string Name { get; }
    /// <summary>auto, torch or onnxruntime.</summary>
    public string Backend { get; }
    /// <summary>Null: modelc's default.</summary>
    public int? MinBlockSize { get; }
    /// <summary>Operators that run on TorchSharp whatever the backend; sorted.</summary>
    public IReadOnlyList<string> TorchExecutedOps { get; }

    /// <param name="shapes">entries separated by ';', ',' or white space; empty: the archive's own ranges.</param>
    /// <param name="tolerance">empty: modelc's default.</param>
    /// <param name="backend">auto, torch or onnxruntime; empty: auto.</param>
    /// <param name="minBlockSize">empty: modelc's default.</param>
    /// <param name="torchExecutedOps">operators separated by ';', ',' or white space.</param>
    /// <exception cref="ModelBuildException">MB6002..MB6005, MB6016, MB6017 for a value modelc would refuse.</exception>
    public static ModelCompileOptions Parse(string modelFile, string device, string precision, string shapes, string tolerance, string name,
        string backend = "", string minBlockSize = "", string torchExecutedOps = "")
    {
        var normalizedDevice = device.Trim().ToLowerInvariant();
        if (Array.IndexOf(Devices, normalizedDevice) < 0)
        {
            throw new ModelBuildException(DiagnosticCodes.UnknownDevice,
                $"Device '{device}' is not one of {string.Join(", ", Devices)}.", modelFile);
        }
        var normalizedPrecision = precision.Trim().ToLowerInvariant();
        if (Array.IndexOf(Precisions, normalizedPrecision) < 0)
        {
            throw new ModelBuildException(DiagnosticCodes.UnknownPrecision,
                $"Precision '{precision}' is not one of {string.Join(", ", Precisions)}.", modelFile);
        }
        var ranges = shapes.Split(new[] { ';', ',', ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(s => ShapeRangeOption.Parse(s, modelFile))
            .OrderBy(s => s.Input, StringComparer.Ordinal).ThenBy(s => s.Dim)
            .ToList();
        var duplicate = ranges.GroupBy(s => (s.Input, s.Dim)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ModelBuildException(DiagnosticCodes.MalformedShapeOption,
                $"Shapes gives input '{duplicate.Key.Input}' dim {duplicate.Key.Dim} more than one range.", modelFile);
        }
        double? tol = null;
        if (tolerance.Trim().Length > 0)
        {
            if (!double.TryParse(tolerance.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                || !(value > 0) || double.IsInfinity(value))
            {
                throw new ModelBuildException(DiagnosticCodes.MalformedTolerance,
                    $"Tolerance '{tolerance}' is not a positive number (for example 1e-4).", modelFile);
            }
            tol = value;
        }
        var normalizedBackend = backend.Trim().Length == 0 ? "auto" : backend.Trim().ToLowerInvariant();
        if (Array.IndexOf(Backends, normalizedBackend) < 0)
        {
            throw new ModelBuildException(DiagnosticCodes.UnknownBackend,
                $"Backend '{backend}' is not one of {string.Join(", ", Backends)}.", modelFile);
        }
        int? blockSize = null;
        if (minBlockSize.Trim().Length > 0)
        {
            if (!int.TryParse(minBlockSize.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
            {
                throw new ModelBuildException(DiagnosticCodes.MalformedMinBlockSize,
                    $"MinBlockSize '{minBlockSize}' is not a whole number of at least 1.", modelFile);
            }
            blockSize = size;
        }
        var ops = torchExecutedOps.Split(new[] { ';', ',', ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries)
            .Distinct(StringComparer.Ordinal).OrderBy(o => o, StringComparer.Ordinal).ToList();
        return new ModelCompileOptions(normalizedDevice, normalizedPrecision, ranges, tol, name.Trim(), normalizedBackend, blockSize, ops);
    }

    /// <summary>One line per option, in a fixed order; the same options always give the same text.</summary>
    public string Canonical
    {
        get
        {
            var text = new StringBuilder();
            text.Append("device=").Append(Device).Append('\n');
            text.Append("precision=").Append(Precision).Append('\n');
            foreach (var shape in Shapes)
            {
                text.Append("shape=").Append(shape).Append('\n');
            }
            text.Append("tolerance=").Append(FormatTolerance() ?? "default").Append('\n');
            text.Append("name=").Append(Name).Append('\n');
            text.Append("backend=").Append(Backend).Append('\n');
            text.Append("min-block-size=").Append(MinBlockSize?.ToString(CultureInfo.InvariantCulture) ?? "default").Append('\n');
            foreach (var op in TorchExecutedOps)
            {
                text.Append("torch-executed-op=").Append(op).Append('\n');
            }
            return text.ToString();
        }
    }

    /// <summary>modelc's compile arguments after the model and output: <c>--device cpu --precision fp32 --shape ...</c>.</summary>
    public IEnumerable<string> ToModelcArguments()
    {
        yield return "--device";
        yield return Device;
        yield return "--precision";
        yield return Precision;
        foreach (var shape in Shapes)
        {
            yield return "--shape";
            yield return shape.ToString();
        }
        if (FormatTolerance() is { } tol)
        {
            yield return "--tolerance";
            yield return tol;
        }
        yield return "--name";
        yield return Name;
        yield return "--backend";
        yield return Backend;
        if (MinBlockSize is { } size)
        {
            yield return "--min-block-size";
            yield return size.ToString(CultureInfo.InvariantCulture);
        }
        foreach (var op in TorchExecutedOps)
        {
            yield return "--torch-executed-op";
            yield return op;
        }
    }

    private string? FormatTolerance() => Tolerance?.ToString("R", CultureInfo.InvariantCulture);
}
