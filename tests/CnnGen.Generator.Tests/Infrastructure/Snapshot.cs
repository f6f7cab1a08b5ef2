using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>
/// Golden-file comparison of whole generated sources against <c>Snapshots/&lt;name&gt;.g.cs.txt</c>, so every change
/// to generated code is visible in review. With <c>CNNGEN_UPDATE_SNAPSHOTS=1</c> the files are rewritten instead.
/// </summary>
internal static class Snapshot
{
    public const string UpdateVariable = "CNNGEN_UPDATE_SNAPSHOTS";
    private const string Folder = "Snapshots";

    public static void Match(string actual, string name, [CallerFilePath] string callerFile = "")
    {
        actual = Normalize(actual);
        // The source tree's folder, found from the calling test file; it is where updates go.
        string sourceFolder = Path.Combine(Path.GetDirectoryName(callerFile) ?? "", Folder);
        string fileName = name + ".g.cs.txt";
        string sourcePath = Path.Combine(sourceFolder, fileName);

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Assert.True(Directory.Exists(Path.GetDirectoryName(sourceFolder)),
                $"{UpdateVariable}=1 rewrites the golden files in the source tree, but {sourceFolder} is not there (was the test assembly built elsewhere?).");
            Directory.CreateDirectory(sourceFolder);
            File.WriteAllText(sourcePath, actual);
            return;
        }

        // Without the source tree (a test assembly copied elsewhere), the copy next to the assembly serves.
        string path = File.Exists(sourcePath) ? sourcePath : Path.Combine(AppContext.BaseDirectory, Folder, fileName);
        Assert.True(File.Exists(path), $"No golden file {sourcePath}. Run the tests with {UpdateVariable}=1 to create it, then review and commit it.");
        string expected = Normalize(File.ReadAllText(path));
        if (expected == actual) return;
        Assert.Fail(DescribeFirstDifference(expected, actual, path));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    private static string DescribeFirstDifference(string expected, string actual, string path)
    {
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        int line = 0;
        while (line < e.Length && line < a.Length && e[line] == a[line]) line++;
        string Show(string[] lines) => line < lines.Length ? lines[line] : "<end of file>";
        return $"""
            The generated source differs from {path} at line {line + 1} (golden file: {e.Length} lines, generated: {a.Length}).
              expected: {Show(e)}
              actual:   {Show(a)}
            If the change is intended, run the tests with {UpdateVariable}=1 to rewrite the golden files, and review the diff before committing.
            """;
    }
}
