namespace ModelBuild.Backends.Benchmarks;

/// <summary>--key value pairs; name, engine, onnx, ts and cases are required.</summary>
internal static class Args
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --option, got '{args[i]}'");
            }
            options[args[i][2..]] = args[i + 1];
        }
        foreach (var required in new[] { "name", "engine", "onnx", "ts", "cases" })
        {
            if (!options.ContainsKey(required))
            {
                throw new ArgumentException($"--{required} is required");
            }
        }
        return options;
    }
}
