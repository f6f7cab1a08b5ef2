using System;
using System.IO;
using System.Runtime.CompilerServices;
using CnnGen.Tests.Networks;

namespace CnnGen.Tests.Tiering;

/// <summary>
/// The child of <see cref="WarmupTests"/>: with <see cref="MarkerVariable"/> = <c>warm</c>, runs
/// <see cref="NetworkWarmup"/> on every path first, with <c>cold</c> not; then builds a LeNet-5 and its buffers, marks
/// the start of the first calls (<see cref="FirstCallsStart"/>, whose compilation is a line of the JIT's summary) and
/// calls each entry point once (both overloads of <c>Predict</c> on one sample): what the JIT compiles after the
/// marker is what an application's first calls wait for.
/// </summary>
internal static class WarmupChildProcess
{
    /// <summary><c>warm</c> or <c>cold</c> in the child's environment; the startup hook does nothing without it.</summary>
    public const string MarkerVariable = "CNNGEN_WARMUP_CHILD";

    /// <summary>The batch of the batch paths, warmed and called.</summary>
    public const int Batch = 64;

    public static int Run(TextWriter output, bool warm)
    {
        if (warm) NetworkWarmup.Run(seed => new LeNet5(seed), WarmupPaths.All, Batch);
        var network = new LeNet5(7);
        var inputs = new float[Batch * LeNet5.InputLength];
        new DeterministicRandom(5).FillSymmetric(inputs, 1f);
        var labels = new int[Batch];
        var outputs = new float[Batch * LeNet5.OutputLength];
        FirstCallsStart();
        network.Predict(inputs.AsSpan(0, LeNet5.InputLength), outputs.AsSpan(0, LeNet5.OutputLength));
        network.Predict(inputs.AsSpan(0, LeNet5.InputLength), outputs.AsSpan(0, LeNet5.OutputLength), 1);
        network.Predict(inputs, outputs, Batch);
        network.Training = true;
        network.ComputeGradients(inputs, labels, Batch);
        output.WriteLine("called");
        output.Flush();
        return 0;
    }

    /// <summary>Does nothing; its compilation marks, in the JIT's summary, where the first calls begin.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void FirstCallsStart() { }
}
