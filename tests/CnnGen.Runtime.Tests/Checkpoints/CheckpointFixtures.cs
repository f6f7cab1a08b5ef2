using System;
using System.Diagnostics;
using System.IO;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>Where the committed fixtures and scripts live, and whether the Python cross-check can run here.</summary>
internal static class CheckpointFixtures
{
    private const string RelativeFolder = "tests/CnnGen.Runtime.Tests/Checkpoints";

    /// <summary>The Debian Python that has numpy (and torch) on the development machine; CI may lack it.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string> Folder = new(FindFolder);

    private static readonly Lazy<string?> PythonMissing = new(ProbePython);

    /// <summary>This test folder in the source tree (found by walking up from the test binaries).</summary>
    public static string SourceFolder => Folder.Value;

    public static string FixturePath(string fileName) => Path.Combine(SourceFolder, "Fixtures", fileName);

    public static string CrossCheckScript => Path.Combine(SourceFolder, "safetensors_crosscheck.py");

    /// <summary>Why the Python cross-check cannot run here, or null when it can.</summary>
    public static string? PythonUnavailableReason => PythonMissing.Value;

    /// <summary>Runs the cross-check script; returns its exit code and combined output.</summary>
    public static (int ExitCode, string Output) RunCrossCheck(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CrossCheckScript);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Python}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException($"{CrossCheckScript} did not finish in 60 s.");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string FindFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, RelativeFolder);
            if (File.Exists(Path.Combine(candidate, "safetensors_crosscheck.py"))) return candidate;
        }
        throw new DirectoryNotFoundException($"Could not find {RelativeFolder} above {AppContext.BaseDirectory}; the checkpoint fixtures live there.");
    }

    private static string? ProbePython()
    {
        if (!File.Exists(Python)) return $"{Python} does not exist";
        try
        {
            var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("import numpy");
            using var process = Process.Start(start);
            if (process is null) return $"{Python} could not be started";
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(); return $"{Python} -c 'import numpy' timed out"; }
            return process.ExitCode == 0 ? null : $"{Python} has no numpy";
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or IOException)
        {
            return $"{Python} could not be started: {exception.Message}";
        }
    }
}

/// <summary>A fact that needs /usr/bin/python3 with numpy; skipped, saying so, where that is missing (as in CI).</summary>
public sealed class PythonNumpyFactAttribute : FactAttribute
{
    public PythonNumpyFactAttribute()
    {
        if (CheckpointFixtures.PythonUnavailableReason is string reason)
            Skip = $"Needs {CheckpointFixtures.Python} with numpy to cross-check the safetensors format, but {reason}. " +
                   "The committed fixtures (Fixtures/*.safetensors, verified by safetensors_crosscheck.py when written) still pin the format.";
    }
}
