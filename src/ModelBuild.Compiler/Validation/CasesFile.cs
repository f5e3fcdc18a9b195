using System.Globalization;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler.Validation;

/// <summary>One case of a cases file: the names of its input tensors and expected output tensors, in order.</summary>
public sealed record Case(string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// A cases.safetensors file (the fixture format): tensors <c>&lt;case&gt;.in.&lt;i&gt;</c> and <c>&lt;case&gt;.out.&lt;j&gt;</c>,
/// numbered from 0 without gaps. Cases keep the order of their first tensor in the file.
/// </summary>
public static partial class CasesFile
{
    public static IReadOnlyList<Case> Read(SafetensorsFile file, string path)
    {
        var cases = new Dictionary<string, (SortedDictionary<int, string> In, SortedDictionary<int, string> Out)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var name in file.Tensors.Keys.OrderBy(k => file.Tensors[k].Begin))
        {
            var m = Pattern().Match(name);
            if (!m.Success)
            {
                throw new ModelBuildException(DiagnosticCodes.CasesMalformed, $"tensor '{name}' is not named <case>.in.<i> or <case>.out.<j>.", path);
            }
            var key = m.Groups["case"].Value;
            if (!cases.TryGetValue(key, out var c))
            {
                cases[key] = c = (new SortedDictionary<int, string>(), new SortedDictionary<int, string>());
                order.Add(key);
            }
            (m.Groups["kind"].Value == "in" ? c.In : c.Out)[int.Parse(m.Groups["i"].Value, CultureInfo.InvariantCulture)] = name;
        }
        return [.. order.Select(key =>
        {
            var (ins, outs) = cases[key];
            if (ins.Count == 0 || outs.Count == 0 || ins.Keys.Last() != ins.Count - 1 || outs.Keys.Last() != outs.Count - 1)
            {
                throw new ModelBuildException(DiagnosticCodes.CasesMalformed,
                    $"case '{key}' needs inputs {key}.in.0.. and outputs {key}.out.0.. numbered without gaps; it has {string.Join(", ", ins.Values.Concat(outs.Values))}.", path);
            }
            return new Case(key, [.. ins.Values], [.. outs.Values]);
        })];
    }

    // At most nine digits, so that the index always fits an int.
    [GeneratedRegex(@"^(?<case>.+)\.(?<kind>in|out)\.(?<i>\d{1,9})$")]
    private static partial Regex Pattern();
}
