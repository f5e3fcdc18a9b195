using System.Globalization;
using System.Text;

namespace ModelBuild.Runtime.Benchmarks;

/// <summary>Writes the measurements as a Markdown table and a bar chart.</summary>
internal static class Report
{
    public static string Markdown(IReadOnlyList<FixtureTimes> rows, double overheadUsPerOp, int threads)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(ci, $"CPU threads: {threads}. Latency: median of warm `Run` at the case shown. Load: bytes in memory (TorchScript: the file, in the page cache) to the first result, median of 10 in a warm process.");
        md.AppendLine();
        md.AppendLine("| model | case | ModelBuild engine (us) | TorchSharp jit.load (us) | ONNX Runtime 1.31 (us) | load engine (ms) | load jit (ms) | load ORT (ms) |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            md.AppendLine(ci, $"| {r.Model} | {r.Case} | {r.EngineUs:F1} | {r.JitUs:F1} | {Cell(r.OrtUs, r.OrtError)} | {r.EngineLoadMs:F2} | {r.JitLoadMs:F2} | {Cell(r.OrtLoadMs, r.OrtError)} |");
        }
        md.AppendLine();
        md.AppendLine(ci, $"Executor overhead over bare TorchSharp calls (200 chained one-element adds): **{overheadUsPerOp:F2} us per op** (target: at most 3 us).");
        return md.ToString();

        string Cell(double v, string? error) => double.IsNaN(v) ? $"failed: {error}" : v.ToString("F1", ci);
    }

    public static void Chart(IReadOnlyList<FixtureTimes> rows, string path)
    {
        var plot = new ScottPlot.Plot();
        var series = new (string Label, Func<FixtureTimes, double> Value)[]
        {
            ("ModelBuild engine", r => r.EngineUs),
            ("TorchSharp jit.load", r => r.JitUs),
            ("ONNX Runtime", r => r.OrtUs),
        };
        var palette = new ScottPlot.Palettes.Category10();
        for (var s = 0; s < series.Length; s++)
        {
            var bars = rows.Select((r, i) => new ScottPlot.Bar
            {
                Position = (i * (series.Length + 1)) + s,
                Value = double.IsNaN(series[s].Value(r)) ? 0 : series[s].Value(r),
                FillColor = palette.GetColor(s),
            }).ToList();
            plot.Add.Bars(bars).LegendText = series[s].Label;
        }
        plot.Axes.Bottom.SetTicks(
            rows.Select((_, i) => (double)((i * (series.Length + 1)) + 1)).ToArray(),
            rows.Select(r => r.Model).ToArray());
        plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
        plot.YLabel("latency at opt (us, lower is better)");
        plot.Title("Per-inference latency, CPU");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1300, 520);
    }
}
