using System;
using System.Collections.Generic;
using System.IO;

namespace CnnGen.Checkpoints;

/// <summary>Replaces a set of files so that a failure part-way leaves the previous versions in place.</summary>
internal static class AtomicFiles
{
    /// <summary>
    /// Writes every file to a temporary file in its own directory (so the rename cannot cross file systems),
    /// flushes each to disk, and only when all are written renames them over their targets in the order given.
    /// On any exception the temporary files are deleted and the exception propagates.
    /// </summary>
    /// <remarks>
    /// Each rename is atomic; the set is not (a crash between two renames leaves the earlier ones done), so put
    /// the file that "commits" the set last and give readers a way to detect a mismatched pair.
    /// </remarks>
    public static void Replace(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        var temporaries = new string?[files.Count];
        try
        {
            for (int i = 0; i < files.Count; i++)
            {
                string target = Path.GetFullPath(files[i].Path);
                string directory = Path.GetDirectoryName(target)
                    ?? throw new ArgumentException($"'{files[i].Path}' names a root directory, not a file.");
                Directory.CreateDirectory(directory);
                string temporary = Path.Combine(directory, $"{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
                temporaries[i] = temporary;
                using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
                files[i].Write(stream);
                stream.Flush(flushToDisk: true);
            }
            for (int i = 0; i < files.Count; i++)
            {
                File.Move(temporaries[i]!, files[i].Path, overwrite: true);
                temporaries[i] = null;
            }
        }
        catch
        {
            foreach (string? temporary in temporaries)
            {
                if (temporary is null) continue;
                try { File.Delete(temporary); }
                catch (IOException) { } // best effort: the original exception is the one worth reporting
                catch (UnauthorizedAccessException) { }
            }
            throw;
        }
    }
}
