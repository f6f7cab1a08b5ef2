using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using CnnGen.Runtime.Tests.Optimizers;
using CnnGen.Schedules;

namespace CnnGen.Runtime.Tests.Schedules;

/// <summary>Replays every schedule case of make_optimizer_references.py: 30 values of torch 1.13's scheduler.</summary>
public sealed class ScheduleTorchParityTests
{
    public static IEnumerable<object[]> Cases => TorchReferences.ScheduleCaseNames.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Learning_rates_match_torch(string name)
    {
        var reference = TorchReferences.ScheduleCase(name);
        float baseRate = (float)reference.GetProperty("baseLearningRate").GetDouble();
        var schedule = Build(reference.GetProperty("kind").GetString()!, reference.GetProperty("options"), baseRate);
        double[] expected = TorchReferences.Doubles(reference.GetProperty("learningRates"));
        float[] actual = Enumerable.Range(0, expected.Length).Select(schedule.LearningRate).ToArray();
        // Relative to each value, down to the 1e-10 of repeated decays; a cosine's bottom (0 here, a rounding
        // residue in torch's recursive form) is compared against a millionth of the base rate.
        Close.Assert(expected, actual, name, floorFraction: 1e-6);
    }

    private static ILearningRateSchedule Build(string kind, JsonElement o, float baseRate) => kind switch
    {
        "StepDecay" => new StepDecay(baseRate, o.GetProperty("stepSize").GetInt32(), o.GetProperty("gamma").GetDouble()),
        "CosineAnnealing" => new CosineAnnealing(baseRate, o.GetProperty("period").GetInt32(), (float)o.GetProperty("minimum").GetDouble()),
        "CosineWarmRestarts" => new CosineWarmRestarts(baseRate, o.GetProperty("firstPeriod").GetInt32(),
            o.GetProperty("periodGrowth").GetInt32(), (float)o.GetProperty("minimum").GetDouble()),
        "LinearWarmup" => new LinearWarmup(
            Build(o.GetProperty("inner").GetProperty("kind").GetString()!, o.GetProperty("inner").GetProperty("options"), baseRate),
            o.GetProperty("warmupSteps").GetInt32(), o.GetProperty("startFactor").GetDouble()),
        _ => throw new InvalidOperationException($"Unknown schedule kind {kind} in the references."),
    };
}
