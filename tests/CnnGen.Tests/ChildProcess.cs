using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace CnnGen.Tests;

/// <summary>
/// Runs this test assembly again as a child process, with other runtime settings: `dotnet exec CnnGen.Tests.dll` with
/// the assembly as its own startup hook (<see cref="StartupHook"/>), which runs the check that a marker variable
/// names and exits before the test SDK's empty Main. How the tests reach JIT settings (an instruction set left out,
/// the JIT's own report) that cannot change in a running process.
/// </summary>
internal static class ChildProcess
{
    /// <summary>What the child printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string Output, string Errors, TimeSpan Elapsed);

    /// <summary>Starts the child with <paramref name="environment"/> added to this process's, waits for it (killing it after <paramref name="timeout"/>).</summary>
    public static Result Run(IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        string assembly = typeof(ChildProcess).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        foreach (var (name, value) in environment) start.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the child process ran longer than {timeout.TotalSeconds} s");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>The dotnet host running this process (the SDK sets DOTNET_HOST_PATH for test runs), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
        return "dotnet";
    }
}
