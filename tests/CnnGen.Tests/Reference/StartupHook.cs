using System;
using CnnGen.Tests.Reference;

// No namespace: the runtime looks for a type named exactly StartupHook when the assembly is listed in
// DOTNET_STARTUP_HOOKS (https://github.com/dotnet/runtime/blob/main/docs/design/features/host-startup-hook.md).
// This is how ReferenceIsaPathTests runs the reference checks in a child process with other JIT settings without
// a console project of its own: `dotnet exec CnnGen.Tests.dll` with this assembly as its own startup hook.

/// <summary>Runs the reference checks before Main when the child-process marker is set, then exits with their result.</summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(ReferenceChildProcess.MarkerVariable) != "1") return;
        Environment.Exit(ReferenceChildProcess.Run(Console.Out));
    }
}
