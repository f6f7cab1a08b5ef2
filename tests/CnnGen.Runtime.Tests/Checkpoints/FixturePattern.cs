using System;
using System.Collections.Generic;
using CnnGen;
using CnnGen.Checkpoints;

namespace CnnGen.Runtime.Tests.Checkpoints;

/// <summary>
/// The values the fixture files hold, computed the same way here and in <c>safetensors_crosscheck.py</c>
/// (keep the two in step): element k of a tensor with salt s is ((37k + 11s) mod 251 − 125) / 32, which is exact
/// in float32 and float64 alike, so both sides agree bit for bit. Variances are made positive: |v| + 1/4.
/// </summary>
internal static class FixturePattern
{
    /// <summary>Salt of each tensor in the fixtures; Python writes its file with salt + <see cref="PythonSaltOffset"/>.</summary>
    public static readonly IReadOnlyDictionary<string, int> Salts = new Dictionary<string, int>
    {
        ["0.weight"] = 1, ["0.bias"] = 2,
        ["1.weight"] = 3, ["1.bias"] = 4, ["1.running_mean"] = 5, ["1.running_var"] = 6,
        ["4.weight"] = 7, ["4.bias"] = 8,
        ["optimizer.exp_avg"] = 9, ["optimizer.exp_avg_sq"] = 10,
    };

    public const int PythonSaltOffset = 100;

    /// <summary>Optimizer steps recorded in the fixture written by CnnGen (and its num_batches_tracked).</summary>
    public const long CnnGenStep = 1234;

    /// <summary>num_batches_tracked in the fixture written by Python.</summary>
    public const long PythonBatchesTracked = 57;

    public static bool IsPositive(string name) => name.EndsWith("running_var", StringComparison.Ordinal) || name.EndsWith("exp_avg_sq", StringComparison.Ordinal);

    public static float Value(string name, int salt, int k)
    {
        float value = ((k * 37 + salt * 11) % 251 - 125) / 32f;
        return IsPositive(name) ? MathF.Abs(value) + 0.25f : value;
    }

    public static void Fill(string name, int salt, Span<float> destination)
    {
        for (int k = 0; k < destination.Length; k++) destination[k] = Value(name, salt, k);
    }

    /// <summary>Fills every tensor of <paramref name="network"/> with the pattern (salts shifted by <paramref name="saltOffset"/>).</summary>
    public static void Fill(INetwork network, int saltOffset = 0)
    {
        foreach (var tensor in network.Description.Parameters)
            Fill(tensor.Name, Salts[tensor.Name] + saltOffset, network.Parameters.Slice(tensor.Offset, tensor.Length));
        foreach (var tensor in network.Description.State)
            Fill(tensor.Name, Salts[tensor.Name] + saltOffset, network.State.Slice(tensor.Offset, tensor.Length));
    }

    /// <summary>The network and optimizer exactly as the committed fixture written by CnnGen holds them.</summary>
    public static (FakeLeNet Network, FakeOptimizerState Optimizer, CheckpointExtras Extras) CnnGenFixtureContents()
    {
        var network = new FakeLeNet();
        Fill(network);
        var optimizer = FakeOptimizerState.Adam(network.Description.ParameterCount);
        foreach (string buffer in optimizer.BufferNames)
        {
            string name = Checkpoint.OptimizerTensorPrefix + buffer;
            Fill(name, Salts[name], optimizer.Buffer(buffer));
        }
        optimizer.StepCount = CnnGenStep;
        var extras = new CheckpointExtras
        {
            Epoch = 3,
            Step = CnnGenStep,
            Metadata = new Dictionary<string, string>
            {
                ["learning_rate"] = "0.001",
                ["note"] = "résumé ✓ — non-ASCII survives",
            },
        };
        return (network, optimizer, extras);
    }
}
