using System.Globalization;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Safetensors;

namespace ModelBuild.Compiler.Validation;

/// <summary>
/// One case of a cases file: the names of its input tensors and expected output tensors, in order, and of the expected
/// values of inputs after the call by input index (for models that write their inputs in place).
/// </summary>
public sealed record Case(string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    /// <summary>Input index to the tensor <c>&lt;case&gt;.mutated.&lt;i&gt;</c>: what input i holds after the call.</summary>
    public IReadOnlyDictionary<int, string> InputsAfter { get; init; } = new Dictionary<int, string>();
}

/// <summary>
/// A cases.safetensors file (the fixture format): tensors <c>&lt;case&gt;.in.&lt;i&gt;</c> and <c>&lt;case&gt;.out.&lt;j&gt;</c>,
/// numbered from 0 without gaps, and <c>&lt;case&gt;.mutated.&lt;i&gt;</c>, input i after the call, for models that
/// write their inputs in place. Cases keep the order of their first tensor in the file.
/// </summary>
public static partial class CasesFile
{
    public static IReadOnlyList<Case> Read(SafetensorsFile file, string path)
    {
        var cases = new Dictionary<string, Dictionary<string, SortedDictionary<int, string>>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var name in file.Tensors.Keys.OrderBy(k => file.Tensors[k].Begin))
        {
            var m = Pattern().Match(name);
            if (!m.Success)
            {
                throw new ModelBuildException(DiagnosticCodes.CasesMalformed, $"tensor '{name}' is not named <case>.in.<i>, <case>.out.<j> or <case>.mutated.<i>.", path);
            }
            var key = m.Groups["case"].Value;
            if (!cases.TryGetValue(key, out var c))
            {
                cases[key] = c = new Dictionary<string, SortedDictionary<int, string>>(StringComparer.Ordinal) { ["in"] = [], ["out"] = [], ["mutated"] = [] };
                order.Add(key);
            }
            c[m.Groups["kind"].Value][int.Parse(m.Groups["i"].Value, CultureInfo.InvariantCulture)] = name;
        }
        return [.. order.Select(key =>
        {
            var (ins, outs, after) = (cases[key]["in"], cases[key]["out"], cases[key]["mutated"]);
            if (ins.Count == 0 || outs.Count == 0 || ins.Keys.Last() != ins.Count - 1 || outs.Keys.Last() != outs.Count - 1
                || after.Keys.Any(i => !ins.ContainsKey(i)))
            {
                throw new ModelBuildException(DiagnosticCodes.CasesMalformed,
                    $"case '{key}' needs inputs {key}.in.0.. and outputs {key}.out.0.. numbered without gaps, and {key}.mutated.<i> only for inputs it has; it has {string.Join(", ", ins.Values.Concat(outs.Values).Concat(after.Values))}.", path);
            }
            return new Case(key, [.. ins.Values], [.. outs.Values]) { InputsAfter = after };
        })];
    }

    // At most nine digits, so that the index always fits an int.
    [GeneratedRegex(@"^(?<case>.+)\.(?<kind>in|out|mutated)\.(?<i>\d{1,9})$")]
    private static partial Regex Pattern();
}
