using System;
using System.Diagnostics;
using CnnGen.Data;
using CnnGen.Optimizers;
using CnnGen.Training;

namespace CnnGen.Runtime.Tests.Training;

/// <summary>Counts bytes allocated by every thread of the process, so nothing else may run meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurementCollection
{
    public const string Name = "Allocation measurements";
}

[Collection(AllocationMeasurementCollection.Name)]
public sealed class TrainerAllocationTests
{
    private const int MeasuredSteps = 3;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_training_step_allocates_nothing_on_the_calling_thread_nor_on_the_workers(int threads)
    {
        var data = SyntheticData.Noise28(64 * 8, seed: 1);
        var network = new TrainerLeNet5(1);
        using var trainer = new Trainer<TrainerLeNet5>(network, seed => new TrainerLeNet5(seed), new Adam(TrainerLeNet5.ParameterCount, 1e-3f),
            new TrainerOptions { Threads = threads, MaxGradientNorm = 5f });
        var batches = new BatchIterator(data, 64, seed: 2);
        // Warm up past tiered compilation (methods are recompiled after 30 calls and a 100 ms lull, which allocates).
        var warmUp = Stopwatch.StartNew();
        for (int step = 0; step < 40 || warmUp.ElapsedMilliseconds < 1500; step++) Step(trainer, batches);

        // Another thread of the test host may allocate during a window; a step that allocates does so in every window.
        long leastOnThisThread = long.MaxValue, leastInProcess = long.MaxValue;
        for (int window = 0; window < 5; window++)
        {
            long process = GC.GetTotalAllocatedBytes(precise: true);
            long thread = GC.GetAllocatedBytesForCurrentThread();
            for (int step = 0; step < MeasuredSteps; step++) Step(trainer, batches);
            leastOnThisThread = Math.Min(leastOnThisThread, GC.GetAllocatedBytesForCurrentThread() - thread);
            leastInProcess = Math.Min(leastInProcess, GC.GetTotalAllocatedBytes(precise: true) - process);
        }

        Assert.Equal(0, leastOnThisThread);
        Assert.Equal(0, leastInProcess);
    }

    [Fact]
    public void Measuring_allocations_this_way_does_see_a_step_that_allocates()
    {
        var data = SyntheticData.Noise28(64 * 2, seed: 1);
        var network = new TrainerLeNet5(1);
        using var trainer = new Trainer<TrainerLeNet5>(network, seed => new TrainerLeNet5(seed), new Sgd(TrainerLeNet5.ParameterCount, 1e-3f),
            new TrainerOptions { Threads = 2 });
        var batches = new BatchIterator(data, 64, seed: 2);
        Step(trainer, batches);

        long process = GC.GetTotalAllocatedBytes(precise: true);
        batches.MoveNext();
        float[] copied = batches.Inputs.ToArray(); // an allocating step: the inputs copied to a new array
        trainer.TrainStep(copied, batches.Labels, batches.Count);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - process >= copied.Length * sizeof(float));
    }

    private static void Step(Trainer<TrainerLeNet5> trainer, BatchIterator batches)
    {
        if (!batches.MoveNext())
        {
            batches.BeginEpoch(batches.Epoch + 1);
            batches.MoveNext();
        }
        trainer.TrainStep(batches.Inputs, batches.Labels, batches.Count);
    }
}
