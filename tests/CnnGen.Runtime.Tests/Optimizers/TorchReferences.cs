using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>
/// The committed output of References/make_optimizer_references.py (torch 1.13): optimizer trajectories, clipping
/// and schedules. Found by walking up from the test binaries to the test project's folder, so no copy step is needed.
/// </summary>
internal static class TorchReferences
{
    private const string FileName = "optimizer_references.json";
    private static readonly Lazy<JsonElement> Root = new(Load);

    public static float[] InitialParameters => Floats(Root.Value.GetProperty("initialParameters"));

    public static float[][] Gradients => Root.Value.GetProperty("gradients").EnumerateArray().Select(Floats).ToArray();

    public static IEnumerable<string> OptimizerCaseNames => Names("optimizers");
    public static IEnumerable<string> ClippingCaseNames => Names("clipping");
    public static IEnumerable<string> ScheduleCaseNames => Names("schedules");

    public static JsonElement OptimizerCase(string name) => Case("optimizers", name);
    public static JsonElement ClippingCase(string name) => Case("clipping", name);
    public static JsonElement ScheduleCase(string name) => Case("schedules", name);

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static double Double(JsonElement obj, string name, double fallback) =>
        obj.TryGetProperty(name, out var value) ? value.GetDouble() : fallback;

    public static bool Bool(JsonElement obj, string name, bool fallback) =>
        obj.TryGetProperty(name, out var value) ? value.GetBoolean() : fallback;

    private static IEnumerable<string> Names(string section) =>
        Root.Value.GetProperty(section).EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();

    private static JsonElement Case(string section, string name) =>
        Root.Value.GetProperty(section).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static JsonElement Load()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "References", FileName);
            if (File.Exists(candidate))
            {
                using var document = JsonDocument.Parse(File.ReadAllText(candidate));
                return document.RootElement.Clone();
            }
        }
        throw new FileNotFoundException(
            $"References/{FileName} was not found above {AppContext.BaseDirectory}; it is committed in tests/CnnGen.Runtime.Tests.");
    }
}
