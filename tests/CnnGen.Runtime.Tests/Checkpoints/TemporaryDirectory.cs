using System;
using System.IO;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        FullPath = Path.Combine(Path.GetTempPath(), "cnngen-checkpoint-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(FullPath);
    }

    public string FullPath { get; }

    public string File(string name) => Path.Combine(FullPath, name);

    /// <summary>Every file left in the directory (names only, sorted), to assert that no temporary file survived.</summary>
    public string[] FileNames()
    {
        var names = Array.ConvertAll(Directory.GetFiles(FullPath), path => Path.GetFileName(path)!);
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    public void Dispose()
    {
        try { Directory.Delete(FullPath, recursive: true); }
        catch (IOException) { } // a leftover temp folder must not turn a passing test into a failure
    }
}
