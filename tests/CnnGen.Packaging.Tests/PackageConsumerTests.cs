using System;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace CnnGen.Packaging.Tests;

/// <summary>
/// Packs src/CnnGen into a folder feed and builds a project outside the repository against it: proof that the one
/// package carries the runtime library and the source generator, and that they work without this solution.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cnngen-package-" + Guid.NewGuid().ToString("N"));
    // A version of its own, so neither a package cached from an earlier run nor a released one can stand in for this build.
    private readonly string _version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + Environment.ProcessId;

    public PackageConsumerTests() => Directory.CreateDirectory(_root);

    [Fact]
    public void The_package_holds_the_library_and_the_generator_and_a_consumer_builds_and_runs_against_it()
    {
        string feed = Path.Combine(_root, "feed");
        string repository = FindRepositoryRoot();
        DotnetCommand.Run(repository, Limit, "pack", Path.Combine(repository, "src", "CnnGen"), "-c", "Release", "-o", feed,
            $"-p:PackageVersion={_version}");

        string package = Path.Combine(feed, $"CnnGen.{_version}.nupkg");
        Assert.True(File.Exists(package), $"dotnet pack did not write {package}");
        using (var archive = ZipFile.OpenRead(package))
        {
            var entries = archive.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("lib/net10.0/CnnGen.dll", entries);
            Assert.Contains("lib/net10.0/CnnGen.xml", entries);
            Assert.Contains("analyzers/dotnet/cs/CnnGen.Generator.dll", entries);
            Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith("CnnGen.Generator.dll", StringComparison.Ordinal));
        }

        string consumer = Path.Combine(_root, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="cnngen-under-test" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="CnnGen" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using System;
            using CnnGen;

            var network = new TinyLeNet(seed: 3);
            var input = new float[TinyLeNet.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = (i % 7) / 7f;
            var logits = new float[TinyLeNet.OutputLength];
            network.Predict(input, logits);
            Console.WriteLine($"parameters {TinyLeNet.ParameterCount}");
            Console.WriteLine($"layers {TinyLeNet.Description.Layers.Count}");
            Console.WriteLine($"finite {Array.TrueForAll(logits, float.IsFinite)}");

            [Network(1, 12, 12)]
            [Conv2D(4, 3, Activation = Activation.ReLU)]
            [MaxPool2D(2)]
            [Dense(10)]
            partial class TinyLeNet { }
            """);

        string output = DotnetCommand.Run(consumer, Limit, "run", "-c", "Release");

        // Conv 4×1×3×3 + 4, Dense 10×(4·5·5) + 10: the generator ran inside the consumer's build.
        Assert.Contains($"parameters {4 * 9 + 4 + 10 * 100 + 10}", output);
        Assert.Contains("layers 3", output);
        Assert.Contains("finite True", output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
        // Do not let every run leave a test version in the machine's package cache.
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string cached = Path.Combine(cache, "cnngen");
        try
        {
            Directory.Delete(Path.Combine(cached, _version), recursive: true);
            if (Directory.Exists(cached) && !Directory.EnumerateFileSystemEntries(cached).Any()) Directory.Delete(cached);
        }
        catch (IOException) { /* another run may be using the folder; it is only a cache */ }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "CnnGen.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No CnnGen.sln above {AppContext.BaseDirectory}.");
    }
}
