using System.Text;
using System.Text.RegularExpressions;
using ModelBuild.Diagnostics;
using ModelBuild.Engine.Graph;
using ModelBuild.Export.Archives;
using ModelBuild.Export.Pickle;
using ModelBuild.Export.Pt2;

namespace ModelBuild.Export.TorchScript;

/// <summary>
/// A TorchScript archive (<c>torch.jit.save</c> of a traced or scripted module). It holds code and weights but no
/// shapes: inputs come from the <c>forward</c> signature in <c>code/</c>, with dtypes and example shapes from
/// <c>traced_inputs.pkl</c> when tracing left it; weights come from <c>data.pkl</c>. The graph has no nodes and no
/// symbols, and <see cref="ModelGraph.RangesFromUser"/> says that ranges must come from the user.
/// </summary>
public static partial class TorchScriptReader
{
    public const string Format = "torchscript";

    /// <summary>Deeper than any model's module tree (torchvision's and Hugging Face's stay under 20).</summary>
    private const int MaxModuleDepth = 256;

    private const int MaxNameLength = 4096;

    internal static bool Recognizes(IReadOnlyList<string> entryNames) =>
        entryNames.Any(e => e.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Count(c => c == '/') == 1) &&
        entryNames.Any(e => e.Contains("/code/", StringComparison.Ordinal));

    public static ModelGraph Read(string path, ModelReaderOptions? options = null)
    {
        options ??= ModelReaderOptions.Default;
        using var archive = ModelArchive.Open(path, options);
        return Read(archive, path, options);
    }

    internal static ModelGraph Read(ModelArchive archive, string path, ModelReaderOptions options)
    {
        var prefix = TorchSaveArchive.Prefix(archive);
        var root = TorchSaveArchive.Load(archive, prefix, options, allowTorchScriptClasses: true) as PickleObject
            ?? throw new ModelBuildException(DiagnosticCodes.TorchScriptMalformed, "data.pkl does not hold a module.", path);

        var code = new ClassCode(archive, prefix);
        var forward = code.Forward(root.Type);
        var traced = TracedInputs(archive, prefix, options);

        var inputs = forward.Select((p, i) => new GraphValue(p.Name,
            new TensorMeta(traced is not null && i < traced.Count ? traced[i].Storage.DType : Engine.Safetensors.TensorDType.F32, []))).ToList();

        var weights = new List<Weight>();
        CollectWeights(root, code, archive, path, options, prefix, weights);
        var constants = archive.Contains($"{prefix}/constants.pkl")
            ? TorchSaveArchive.Tensors(TorchSaveArchive.Load(archive, prefix, options, "constants.pkl")).ToList()
            : [];
        for (var i = 0; i < constants.Count; i++)
        {
            weights.Add(StoredWeight($"CONSTANTS.c{i}", WeightKind.Constant, constants[i], "constants", archive, path, options, prefix));
        }

        var version = new[] { $"{prefix}/version", $"{prefix}/.data/version" }.Where(archive.Contains)
            .Select(e => archive.ReadShortText(e, 64)).FirstOrDefault();
        return new ModelGraph
        {
            Name = Pt2LegacyArchiveReader.ModelName(path),
            Source = new SourceInfo(Format, path, FileHash.Sha256(path), null, version),
            Inputs = inputs,
            Outputs = [],
            Nodes = [],
            Weights = weights,
            Values = weights.ToDictionary(w => w.ValueName, w => w.Meta),
            Symbols = new Dictionary<string, SymbolRange>(),
            Relations = [],
            ExampleInputShapes = traced?.Select(t => (IReadOnlyList<long>)t.Layout.Sizes.ToArray()).ToList(),
            RangesFromUser = true,
        };
    }

    /// <summary>The tensors tracing recorded for <c>forward</c>; null when the archive was scripted, not traced.</summary>
    private static List<PickledTensor>? TracedInputs(ModelArchive archive, string prefix, ModelReaderOptions options)
    {
        if (!archive.Contains($"{prefix}/traced_inputs.pkl"))
        {
            return null;
        }
        var value = TorchSaveArchive.Load(archive, prefix, options, "traced_inputs.pkl");
        return value is PickleDict dict && dict.Items.FirstOrDefault(p => p.Key as string == "forward").Value is { } forward
            ? TorchSaveArchive.Tensors(forward).ToList()
            : null;
    }

    /// <summary>
    /// The tensors in the state of the module tree, named by their paths. Walked with a stack, each module once and at
    /// most <see cref="MaxModuleDepth"/> deep: through the memo a pickle can make a module its own child.
    /// </summary>
    private static void CollectWeights(PickleObject root, ClassCode code, ModelArchive archive, string file,
        ModelReaderOptions options, string prefix, List<Weight> weights)
    {
        var pending = new Stack<(PickleObject Module, string Path, int Depth)>();
        pending.Push((root, "", 0));
        var seen = new HashSet<PickleObject>(ReferenceEqualityComparer.Instance);
        while (pending.Count > 0)
        {
            var (module, path, depth) = pending.Pop();
            if (!seen.Add(module) || module.State is not PickleDict state)
            {
                continue;
            }
            var (parameters, buffers) = code.Members(module.Type);
            var children = new List<(PickleObject, string, int)>();
            foreach (var (key, value) in state.Items)
            {
                if (key is not string name)
                {
                    continue;
                }
                if (depth >= MaxModuleDepth || path.Length + name.Length >= MaxNameLength)
                {
                    throw new ModelBuildException(DiagnosticCodes.TorchScriptMalformed,
                        $"The TorchScript archive cannot be read: its modules nest deeper than {MaxModuleDepth} levels or have a path longer than {MaxNameLength} characters.", file);
                }
                var full = path.Length == 0 ? name : $"{path}.{name}";
                switch (value)
                {
                    case PickledTensor tensor:
                        var kind = parameters.Contains(name) ? WeightKind.Parameter : buffers.Contains(name) ? WeightKind.Buffer : WeightKind.Constant;
                        weights.Add(StoredWeight(full, kind, tensor, "data", archive, file, options, prefix));
                        break;
                    case PickleObject child:
                        children.Add((child, full, depth + 1));
                        break;
                }
            }
            // Children in reverse onto the stack, so that modules are walked in the order the state lists them.
            for (var i = children.Count - 1; i >= 0; i--)
            {
                pending.Push(children[i]);
            }
        }
    }

    private static Weight StoredWeight(string name, WeightKind kind, PickledTensor tensor, string folder, ModelArchive archive,
        string file, ModelReaderOptions options, string prefix)
    {
        TorchSaveArchive.CheckStorage(archive, prefix, tensor, $"Weight '{name}'", folder);
        var meta = new TensorMeta(tensor.Layout.DType, tensor.Layout.Sizes.Select(Dim.Of).ToList());
        return new Weight(name, name, kind, meta, () =>
        {
            using var a = ModelArchive.Open(file, options);
            return TorchSaveArchive.TensorBytes(a, prefix, tensor, $"Weight '{name}'", folder);
        });
    }

    /// <summary>The Python-like code TorchScript keeps per class: <c>code/&lt;module path&gt;.py</c>.</summary>
    private sealed partial class ClassCode(ModelArchive archive, string prefix)
    {
        private readonly Dictionary<string, string> _files = [];
        private readonly Dictionary<PickleGlobal, (HashSet<string>, HashSet<string>)> _members = [];

        public IReadOnlyList<(string Name, string Annotation)> Forward(PickleGlobal type)
        {
            var body = ClassBody(type) ?? throw Malformed($"the archive has no code for class {type.FullName}");
            var match = ForwardSignature().Match(body);
            if (!match.Success)
            {
                throw Malformed($"class {type.FullName} has no forward(self, ...) method");
            }
            return SplitTopLevel(match.Groups["params"].Value)
                .Skip(1)
                .Select(p => p.Split(':', 2, StringSplitOptions.TrimEntries))
                .Select(p => (p[0], p.Length > 1 ? p[1] : "Tensor"))
                .ToList();
        }

        /// <summary>The class's parameter and buffer names, found once per class however many modules share it.</summary>
        public (HashSet<string> Parameters, HashSet<string> Buffers) Members(PickleGlobal type)
        {
            if (!_members.TryGetValue(type, out var members))
            {
                var body = ClassBody(type) ?? "";
                members = (NameList(body, "__parameters__"), NameList(body, "__buffers__"));
                _members[type] = members;
            }
            return members;
        }

        /// <summary>Splits "a: Tensor, b: Tuple[Tensor, Tensor]" at the commas outside brackets.</summary>
        private static IEnumerable<string> SplitTopLevel(string text)
        {
            var depth = 0;
            var start = 0;
            for (var i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || (text[i] == ',' && depth == 0))
                {
                    var part = text[start..i].Trim();
                    if (part.Length > 0)
                    {
                        yield return part;
                    }
                    start = i + 1;
                }
                else if (text[i] == '[')
                {
                    depth++;
                }
                else if (text[i] == ']')
                {
                    depth--;
                }
            }
        }

        private static HashSet<string> NameList(string body, string member)
        {
            var match = Regex.Match(body, $@"^[ \t]*{member}[ \t]*=[ \t]*\[(?<names>[^\]]*)\]", RegexOptions.Multiline | RegexOptions.NonBacktracking);
            return match.Success
                ? match.Groups["names"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(n => n.Trim('"', '\'')).ToHashSet(StringComparer.Ordinal)
                : [];
        }

        private string? ClassBody(PickleGlobal type)
        {
            var entry = $"{prefix}/code/{type.Module.Replace('.', '/')}.py";
            if (!_files.TryGetValue(entry, out var text))
            {
                text = archive.Contains(entry) ? Encoding.UTF8.GetString(archive.Read(entry)) : "";
                _files[entry] = text;
            }
            var start = text.IndexOf($"class {type.Name}(", StringComparison.Ordinal);
            if (start < 0)
            {
                return null;
            }
            var next = text.IndexOf("\nclass ", start + 1, StringComparison.Ordinal);
            return next < 0 ? text[start..] : text[start..next];
        }

        private ModelBuildException Malformed(string why) =>
            new(DiagnosticCodes.TorchScriptMalformed, $"The TorchScript archive cannot be read: {why}.", archive.File);

        // NonBacktracking: linear in the code's length, where a backtracking scan for ')' after each of many
        // 'def forward(' would be quadratic.
        [GeneratedRegex(@"def forward\((?<params>[^)]*)\)", RegexOptions.Singleline | RegexOptions.NonBacktracking)]
        private static partial Regex ForwardSignature();
    }
}
