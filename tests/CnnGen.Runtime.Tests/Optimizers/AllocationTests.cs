using System;
using CnnGen.Optimizers;
using CnnGen.Schedules;
using CnnGen.TestSupport;

namespace CnnGen.Runtime.Tests.Optimizers;

/// <summary>Steps, clipping and schedules run every batch: they must not allocate.</summary>
public sealed class AllocationTests
{
    [Theory]
    [MemberData(nameof(TestData.FactoryIndices), MemberType = typeof(TestData))]
    public void A_step_allocates_nothing(int factory)
    {
        const int Length = 10_007;
        var optimizer = TestData.Make(factory, Length,
            [new ParameterGroup(0, 100, Frozen: true), new ParameterGroup(5000, 3, 0.1, WeightDecay: false)]);
        float[] parameters = TestData.Vector(Length, 60), gradients = TestData.Vector(Length, 61);
        int step = 0;
        Assert.Equal(0, Allocations.Least(() =>
        {
            optimizer.LearningRate = 0.001f * ++step;
            optimizer.Step(parameters, gradients);
        }));
    }

    [Fact]
    public void Clipping_and_schedules_allocate_nothing()
    {
        float[] gradients = TestData.Vector(10_007, 62, 5f);
        ILearningRateSchedule[] schedules =
        [
            new StepDecay(0.1f, 3), new CosineAnnealing(0.1f, 10), new CosineWarmRestarts(0.1f, 3, 2),
            new LinearWarmup(new CosineAnnealing(0.1f, 10), 5, 0.1), new ConstantLearningRate(0.1f),
        ];
        float sum = 0;
        int step = 0;
        Assert.Equal(0, Allocations.Least(() =>
        {
            sum += GradientClipping.ClipByGlobalNorm(gradients, 0.5f);
            foreach (var schedule in schedules) sum += schedule.LearningRate(step);
            step++;
        }));
        Assert.True(float.IsFinite(sum));
    }
}
