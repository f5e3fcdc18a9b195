using System.CommandLine;
using ModelBuild.Cli;

var root = new RootCommand("modelc: read, compile, verify and run ModelBuild models and engines.")
{
    InspectCommand.Create(),
    CompileCommand.Create(),
    VerifyCommand.Create(),
    RunCommand.Create(),
    BenchCommand.Create(),
};
return root.Parse(args).Invoke();
