using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Threading;
using CnnGen.Inference;
using CnnGen.Optimizers;
using CnnGen.Tests.Networks;
using CnnGen.Training;

namespace CnnGen.Tests.Tiering;

/// <summary>A small network with the layers LeNet-5 lacks: batch norm with the ReLU it fuses, Winograd-sized 3×3 convolutions (two of one signature, which inference chains channel-last), dropout.</summary>
[Network(3, 16, 16, Loss = Loss.SoftmaxCrossEntropy)]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Activation = Activation.ReLU)]
[MaxPool2D(2)]
[Dropout(0.25f)]
[Dense(10)]
public partial class TieringNet { }

/// <summary>
/// The child of <see cref="TieringTests"/>: runs every hot path a few times (<see cref="Rounds"/>) on LeNet-5 and
/// <see cref="TieringNet"/> under the JIT settings the parent chose, so that the JIT's summary shows which methods
/// those paths compiled at which tier. The trainers and predictors live until the process exits.
/// </summary>
internal static class TieringChildProcess
{
    /// <summary>Set to 1 in the child's environment; the startup hook does nothing without it.</summary>
    public const string MarkerVariable = "CNNGEN_TIERING_CHILD";

    /// <summary>Calls of each entry point: a method called 10 times or more per call reaches the 30 calls that promote it.</summary>
    public const int Rounds = 3;

    /// <summary>How long the JIT must have compiled nothing for the child to take its background work as done.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    /// <summary>The longest the child waits for that (a loaded machine's background compiler can lag).</summary>
    private static readonly TimeSpan QuietTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Builds the networks, trainers and predictors, waits for the compilations their construction queued, marks the
    /// start of the calls (<see cref="CallsStart"/>, whose compilation is a line of the JIT's summary), calls each
    /// entry point <see cref="Rounds"/> times and waits for the compilations those calls queued.
    /// </summary>
    public static int Run(TextWriter output)
    {
        var rounds = new List<Action>
        {
            Build(seed => new LeNet5(seed), LeNet5.InputLength, 10),
            Build(seed => new TieringNet(seed), TieringNet.InputLength, 10),
        };
        WaitForQuietJit();
        CallsStart();
        for (int round = 0; round < Rounds; round++)
            foreach (var run in rounds) run();
        WaitForQuietJit();
        output.WriteLine("exercised");
        output.Flush();
        return 0;
    }

    // Until the process's count of compiled methods stays the same for Quiet: the tier-1 compilations that calls
    // queued run on a background thread, and those queued by construction must land before the marker.
    private static void WaitForQuietJit()
    {
        var clock = Stopwatch.StartNew();
        long count = JitInfo.GetCompiledMethodCount();
        while (clock.Elapsed < QuietTimeout)
        {
            Thread.Sleep(Quiet);
            long now = JitInfo.GetCompiledMethodCount();
            if (now == count) return;
            count = now;
        }
    }

    /// <summary>Does nothing; its compilation marks, in the JIT's summary, where construction ends and the calls begin.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CallsStart() { }

    // One round: every entry point of the network, its Trainer and its ParallelPredictor, once.
    private static Action Build<TNetwork>(Func<int, TNetwork> create, int inputLength, int classes) where TNetwork : class, INetwork
    {
        const int batch = 8;
        var inputs = new float[batch * inputLength];
        new DeterministicRandom(3).FillSymmetric(inputs, 1f);
        var labels = new int[batch];
        for (int s = 0; s < batch; s++) labels[s] = s % classes;
        var outputs = new float[batch * classes];

        var network = create(1);
        var sgd = new Sgd(network.Parameters.Length, learningRate: 0.01f, momentum: 0.9);
        var trainer = new Trainer<TNetwork>(create(2), create, new Sgd(network.Parameters.Length, learningRate: 0.01f, momentum: 0.9),
            new TrainerOptions { BatchSize = batch, Threads = 2, ShardSize = batch / 2, Seed = 1 });
        var predictor = new ParallelPredictor<TNetwork>(create(3), create, threads: 2);
        return () =>
        {
            network.Training = false;
            network.Predict(inputs.AsSpan(0, inputLength), outputs.AsSpan(0, classes), 1);
            network.Predict(inputs, outputs, batch);
            network.Training = true;
            network.ComputeGradients(inputs, labels, batch);
            sgd.Step(network);
            trainer.TrainStep(inputs, labels, batch);
            predictor.Predict(inputs, outputs, batch);
        };
    }
}
