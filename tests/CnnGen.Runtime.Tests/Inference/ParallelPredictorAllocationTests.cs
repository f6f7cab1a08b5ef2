using System;
using System.Diagnostics;
using CnnGen.Inference;
using CnnGen.Runtime.Tests.Training;

namespace CnnGen.Runtime.Tests.Inference;

[Collection(AllocationMeasurementCollection.Name)]
public sealed class ParallelPredictorAllocationTests
{
    // Many short windows: the test host allocates ~168 bytes on its own threads every few tens of milliseconds, so a
    // long window always sees some; a call that allocates does so in every window, however short.
    private const int Windows = 12;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_prediction_allocates_nothing_on_the_calling_thread_nor_on_the_workers(int threads)
    {
        const int batchSize = 64, smallBatch = 5;
        var random = new DeterministicRandom(1);
        var inputs = new float[batchSize * TrainerLeNet5.InputLength];
        random.FillSymmetric(inputs, 1f);
        var outputs = new float[batchSize * TrainerLeNet5.OutputLength];
        var smallInputs = inputs.AsMemory(0, smallBatch * TrainerLeNet5.InputLength);
        var smallOutputs = outputs.AsMemory(0, smallBatch * TrainerLeNet5.OutputLength);
        using var predictor = new ParallelPredictor<TrainerLeNet5>(new TrainerLeNet5(1), seed => new TrainerLeNet5(seed), threads);
        // Warm up past tiered compilation (methods are recompiled after 30 calls and a 100 ms lull, which allocates).
        var warmUp = Stopwatch.StartNew();
        for (int call = 0; call < 40 || warmUp.ElapsedMilliseconds < 1500; call++)
        {
            predictor.Predict(inputs, outputs, batchSize);
            predictor.Predict(smallInputs.Span, smallOutputs.Span, smallBatch);
        }

        long leastOnThisThread = long.MaxValue, leastInProcess = long.MaxValue;
        var inProcess = new long[Windows];
        for (int window = 0; window < Windows; window++)
        {
            long process = GC.GetTotalAllocatedBytes(precise: true);
            long thread = GC.GetAllocatedBytesForCurrentThread();
            predictor.Predict(inputs, outputs, batchSize);
            predictor.Predict(smallInputs.Span, smallOutputs.Span, smallBatch);
            leastOnThisThread = Math.Min(leastOnThisThread, GC.GetAllocatedBytesForCurrentThread() - thread);
            inProcess[window] = GC.GetTotalAllocatedBytes(precise: true) - process;
            leastInProcess = Math.Min(leastInProcess, inProcess[window]);
        }

        Assert.Equal(0, leastOnThisThread);
        Assert.True(leastInProcess == 0, $"Bytes allocated in the process per window: {string.Join(", ", inProcess)}");
    }

    [Fact]
    public void Measuring_allocations_this_way_does_see_a_call_that_allocates()
    {
        using var predictor = new ParallelPredictor<TrainerLeNet5>(new TrainerLeNet5(1), seed => new TrainerLeNet5(seed), 2);
        var inputs = new float[8 * TrainerLeNet5.InputLength];
        predictor.Predict(inputs, new float[8 * TrainerLeNet5.OutputLength], 8);

        long process = GC.GetTotalAllocatedBytes(precise: true);
        var outputs = new float[8 * TrainerLeNet5.OutputLength]; // an allocating call: a new output array each time
        predictor.Predict(inputs, outputs, 8);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - process >= outputs.Length * sizeof(float));
    }
}
