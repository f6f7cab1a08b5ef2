using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace CnnGen.Tests.Reference;

/// <summary>A named tensor of a fixture, as in torch's state_dict.</summary>
internal sealed record NamedTensor(string Name, int[] Shape, float[] Data);

/// <summary>How a fixture gives the loss its targets.</summary>
internal enum TargetKind
{
    /// <summary>Integer class labels, one per sample.</summary>
    Labels,
    /// <summary>Class probabilities for cross-entropy, one row per sample.</summary>
    Probabilities,
    /// <summary>Regression or multi-label targets, one row per sample.</summary>
    Targets,
}

/// <summary>
/// One network's PyTorch reference, written by make_fixtures.py: parameters, running statistics, a batch with its
/// labels or targets, and torch's outputs, loss, gradients and running statistics after the step.
/// </summary>
internal sealed class ReferenceFixture
{
    private const string RelativeDirectory = "tests/CnnGen.Tests/Reference/Fixtures";

    public required string Network { get; init; }
    public required int[] InputShape { get; init; }
    public required int Batch { get; init; }
    public required Loss LossFunction { get; init; }
    public required TargetKind TargetKind { get; init; }
    public required bool Training { get; init; }
    public required NamedTensor[] Parameters { get; init; }
    public required NamedTensor[] State { get; init; }
    public required float[] Inputs { get; init; }
    public int[]? Labels { get; init; }
    public float[]? Targets { get; init; }
    public required float[] Outputs { get; init; }
    public required double Loss { get; init; }
    public required NamedTensor[] ParameterGradients { get; init; }
    public required float[] InputGradients { get; init; }
    public required NamedTensor[] StateAfter { get; init; }

    /// <summary>
    /// The committed fixture folder. The tests run from bin/…, inside the repository both locally and in CI, so the
    /// folder is found by walking up from the test assembly rather than copied next to it.
    /// </summary>
    public static string Directory { get; } = FindDirectory();

    /// <summary>Network names that have a fixture file.</summary>
    public static IReadOnlyList<string> Names =>
        System.IO.Directory.GetFiles(Directory, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .OrderBy(n => n, StringComparer.Ordinal).ToList();

    public static ReferenceFixture Load(string network)
    {
        string path = Path.Combine(Directory, network + ".json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"No fixture for {network}: run /usr/bin/python3 tests/CnnGen.Tests/Reference/make_fixtures.py", path);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return Parse(document.RootElement);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static ReferenceFixture Parse(JsonElement root)
    {
        var kind = root.GetProperty("target_kind").GetString() switch
        {
            "labels" => TargetKind.Labels,
            "probabilities" => TargetKind.Probabilities,
            "targets" => TargetKind.Targets,
            var other => throw new FormatException($"unknown target_kind '{other}'"),
        };
        return new ReferenceFixture
        {
            Network = root.GetProperty("network").GetString() ?? throw new FormatException("network is null"),
            InputShape = Ints(root.GetProperty("input_shape")),
            Batch = root.GetProperty("batch").GetInt32(),
            LossFunction = Enum.Parse<Loss>(root.GetProperty("loss_function").GetString() ?? ""),
            TargetKind = kind,
            Training = root.GetProperty("training").GetBoolean(),
            Parameters = Tensors(root.GetProperty("parameters")),
            State = Tensors(root.GetProperty("state")),
            Inputs = Floats(root.GetProperty("inputs")),
            Labels = kind == TargetKind.Labels ? Ints(root.GetProperty("labels")) : null,
            Targets = kind == TargetKind.Labels ? null : Floats(root.GetProperty("targets")),
            Outputs = Floats(root.GetProperty("outputs")),
            Loss = root.GetProperty("loss").GetDouble(),
            ParameterGradients = Tensors(root.GetProperty("parameter_gradients")),
            InputGradients = Floats(root.GetProperty("input_gradients")),
            StateAfter = Tensors(root.GetProperty("state_after")),
        };
    }

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>Base64 of little-endian float32 values.</summary>
    private static float[] Floats(JsonElement base64)
    {
        byte[] bytes = Convert.FromBase64String(base64.GetString() ?? "");
        if (bytes.Length % 4 != 0) throw new FormatException($"{bytes.Length} bytes is not a whole number of float32 values");
        var values = new float[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i, 4));
        return values;
    }

    private static NamedTensor[] Tensors(JsonElement array) => array.EnumerateArray().Select(e =>
    {
        string name = e.GetProperty("name").GetString() ?? throw new FormatException("tensor name is null");
        int[] shape = Ints(e.GetProperty("shape"));
        float[] data = Floats(e.GetProperty("data"));
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length) throw new FormatException($"tensor {name}: shape [{string.Join(", ", shape)}] holds {count} values but the data has {data.Length}");
        return new NamedTensor(name, shape, data);
    }).ToArray();

    private static string FindDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, RelativeDirectory);
            if (System.IO.Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"{RelativeDirectory} not found in any parent of {AppContext.BaseDirectory}; run the tests from a checkout of the repository.");
    }
}
