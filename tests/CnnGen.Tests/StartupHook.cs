using System;
using CnnGen.Tests.Reference;
using CnnGen.Tests.Tiering;

// No namespace: the runtime looks for a type named exactly StartupHook when the assembly is listed in
// DOTNET_STARTUP_HOOKS (https://github.com/dotnet/runtime/blob/main/docs/design/features/host-startup-hook.md).
// This is how tests run checks in a child process with other JIT settings without a console project of their own:
// `dotnet exec CnnGen.Tests.dll` with this assembly as its own startup hook (see ChildProcess).

/// <summary>Runs the child-process check that a marker variable names before Main, then exits with its result.</summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(ReferenceChildProcess.MarkerVariable) == "1")
            Environment.Exit(ReferenceChildProcess.Run(Console.Out));
        if (Environment.GetEnvironmentVariable(TieringChildProcess.MarkerVariable) == "1")
            Environment.Exit(TieringChildProcess.Run(Console.Out));
        string? warmup = Environment.GetEnvironmentVariable(WarmupChildProcess.MarkerVariable);
        if (warmup is "warm" or "cold")
            Environment.Exit(WarmupChildProcess.Run(Console.Out, warm: warmup == "warm"));
    }
}
