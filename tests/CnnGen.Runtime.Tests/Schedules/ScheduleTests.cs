using System;
using System.Linq;
using CnnGen.Schedules;

namespace CnnGen.Runtime.Tests.Schedules;

/// <summary>The schedules' own rules: units, boundaries, long runs and argument checks.</summary>
public sealed class ScheduleTests
{
    [Fact]
    public void Step_decay_changes_exactly_at_multiples_of_the_step_size()
    {
        var schedule = new StepDecay(1f, 4, 0.5);
        Assert.Equal([1f, 1f, 1f, 1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.25f], Enumerable.Range(0, 9).Select(schedule.LearningRate));
    }

    [Fact]
    public void Cosine_annealing_reaches_the_minimum_at_the_period_and_rises_after_as_torch()
    {
        var schedule = new CosineAnnealing(0.1f, 10, 0.01f);
        Assert.Equal(0.1f, schedule.LearningRate(0));
        Assert.Equal(0.055f, schedule.LearningRate(5), 1e-7f);
        Assert.Equal(0.01f, schedule.LearningRate(10));
        Assert.Equal(schedule.LearningRate(9), schedule.LearningRate(11));
        Assert.Equal(0.1f, schedule.LearningRate(20), 1e-7f);
    }

    [Fact]
    public void Warm_restarts_start_each_period_at_the_base_rate()
    {
        var schedule = new CosineWarmRestarts(0.2f, 3, 2);
        // Periods of 3, 6, 12, 24 start at 0, 3, 9, 21.
        foreach (int restart in new[] { 0, 3, 9, 21, 45 }) Assert.Equal(0.2f, schedule.LearningRate(restart));
        Assert.True(schedule.LearningRate(8) < schedule.LearningRate(7));
        Assert.Equal(schedule.LearningRate(9 + 6), new CosineAnnealing(0.2f, 12).LearningRate(6));
    }

    [Fact]
    public void Warm_restarts_handle_the_largest_counts()
    {
        foreach (int growth in new[] { 1, 2, 3 })
        {
            float rate = new CosineWarmRestarts(0.1f, 1, growth, 0.001f).LearningRate(int.MaxValue);
            Assert.InRange(rate, 0.001f, 0.1f);
        }
    }

    [Fact]
    public void Linear_warmup_ramps_from_the_start_factor_then_runs_the_schedule_from_its_beginning()
    {
        var inner = new StepDecay(0.4f, 2, 0.5);
        var schedule = new LinearWarmup(inner, 4, 0.25);
        // 0.4·(0.25 + 0.75·n/4) for n < 4, then inner(n − 4).
        float[] expected = [0.1f, 0.175f, 0.25f, 0.325f, 0.4f, 0.4f, 0.2f, 0.2f, 0.1f];
        float[] actual = Enumerable.Range(0, expected.Length).Select(schedule.LearningRate).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-7f);
        Assert.Equal(0f, new LinearWarmup(inner, 4, 0).LearningRate(0));
    }

    [Fact]
    public void Units_are_explicit_and_warmup_takes_the_wrapped_schedules()
    {
        Assert.Equal(ScheduleUnit.Epoch, new StepDecay(0.1f, 3).Unit);
        var perStep = new CosineAnnealing(0.1f, 1000, unit: ScheduleUnit.Step);
        Assert.Equal(ScheduleUnit.Step, perStep.Unit);
        Assert.Equal(ScheduleUnit.Step, new LinearWarmup(perStep, 100, 0.01).Unit);
        Assert.Equal(ScheduleUnit.Step, new CosineWarmRestarts(0.1f, 10, unit: ScheduleUnit.Step).Unit);
        Assert.Equal(ScheduleUnit.Epoch, new ConstantLearningRate(0.1f).Unit);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 3, unit: (ScheduleUnit)7));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 3).LearningRate(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(new ConstantLearningRate(1f), 3, 0.5).LearningRate(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(-0.1f, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 3, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(float.NaN, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1f, 10, -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWarmRestarts(0.1f, 10, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(new ConstantLearningRate(1f), 0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(new ConstantLearningRate(1f), 3, 1.5));
        Assert.Throws<ArgumentNullException>(() => new LinearWarmup(null!, 3, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantLearningRate(float.PositiveInfinity));
    }
}
