using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ReadArchiveBenchmarks).Assembly).Run(args);
