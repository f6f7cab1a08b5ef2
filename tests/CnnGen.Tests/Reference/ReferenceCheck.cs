using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.Intrinsics;

namespace CnnGen.Tests.Reference;

/// <summary>What one fixture check found: every disagreement, and the largest error among the values that agreed.</summary>
internal sealed class ReferenceReport
{
    private const int FailuresShownPerTensor = 5;
    private readonly Dictionary<string, int> _failuresPerTensor = new(StringComparer.Ordinal);

    public ReferenceReport(string network) => Network = network;

    public string Network { get; }
    public List<string> Failures { get; } = new();
    public int FailureCount { get; private set; }
    public long ValuesCompared { get; private set; }
    /// <summary>Largest |a − b| / (max(|a|, |b|) + floor / relative): the tolerance test is this ≤ the relative tolerance.</summary>
    public double MaxRelativeError { get; private set; }
    /// <summary>Where <see cref="MaxRelativeError"/> was reached.</summary>
    public string WorstValue { get; private set; } = "none";
    /// <summary>Values that agree only thanks to the absolute floor (their relative difference exceeds the tolerance).</summary>
    public int NearZeroValues { get; private set; }
    /// <summary>Largest |a − b| among <see cref="NearZeroValues"/>, to compare with the floor.</summary>
    public double MaxNearZeroDifference { get; private set; }

    public bool Passed => FailureCount == 0;

    public void CountNearZero(double difference)
    {
        NearZeroValues++;
        MaxNearZeroDifference = Math.Max(MaxNearZeroDifference, difference);
    }

    public void Fail(string tensor, string message)
    {
        FailureCount++;
        int shown = _failuresPerTensor.GetValueOrDefault(tensor);
        _failuresPerTensor[tensor] = shown + 1;
        if (shown < FailuresShownPerTensor) Failures.Add($"{Network}: {message}");
        else if (shown == FailuresShownPerTensor) Failures.Add($"{Network}: {tensor}: more mismatches not shown");
    }

    /// <summary>Counts one compared value, element <paramref name="index"/> of <paramref name="tensor"/>.</summary>
    public void Observe(double relativeError, string tensor, int index, int[] shape)
    {
        ValuesCompared++;
        if (relativeError > MaxRelativeError || (double.IsNaN(relativeError) && !double.IsNaN(MaxRelativeError)))
        {
            MaxRelativeError = relativeError;
            WorstValue = Location(tensor, index, shape);
        }
    }

    /// <summary>The tensor's name and a flat index as [i, j, …] of its shape.</summary>
    public static string Location(string tensor, int flat, int[] shape)
    {
        var parts = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { parts[d] = flat % shape[d]; flat /= shape[d]; }
        return $"{tensor}[{string.Join(", ", parts)}]";
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"{Network}: {(Passed ? "ok" : $"{FailureCount} mismatches")}, {ValuesCompared} values, max relative error {MaxRelativeError:E2} at {WorstValue}, {NearZeroValues} near-zero values within the absolute floor (largest difference {MaxNearZeroDifference:E1})");

    public string Describe() => Summary() + (Failures.Count == 0 ? "" : Environment.NewLine + string.Join(Environment.NewLine, Failures));
}

/// <summary>
/// Loads a fixture into its generated network and compares everything torch computed: outputs, loss, parameter
/// and input gradients, running statistics; plus the tensor names and shapes of the layout.
/// </summary>
internal static class ReferenceCheck
{
    /// <summary>The required agreement: one part in ten thousand.</summary>
    public const double RelativeTolerance = 1e-4;

    /// <summary>
    /// Allowed absolute difference on top, for values near zero whose relative error means nothing. Such values are
    /// sums whose terms cancel (the bias gradient of a convolution feeding a training-mode batch norm is exactly zero
    /// and comes out as ~1e-9 in float32; an input gradient where positive and negative paths meet); float32 sums of
    /// terms of size ≤ 1 carry absolute errors of at most a few ulps of 1, i.e. a few 1e-7, so 1e-6 stays above that
    /// bound while still far below every gradient that is not a cancellation (the fixtures' typical values are
    /// 1e-3..1). Observed: the largest difference the floor let through is 1.1e-8, on every instruction-set path
    /// (the summaries print it).
    /// </summary>
    public const double AbsoluteFloor = 1e-6;

    /// <summary>Which vector width the generated code and TensorPrimitives take in this process.</summary>
    public static string InstructionSet =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";

    public static ReferenceReport Run(ReferenceFixture fixture)
    {
        var report = new ReferenceReport(fixture.Network);
        var network = ReferenceNetworks.Create(fixture.Network);
        if (!CheckLayout(network, fixture, report)) return report;

        Load(network.Parameters, network.Description.Parameters, fixture.Parameters);
        Load(network.State, network.Description.State, fixture.State);
        network.Training = fixture.Training;
        int batch = fixture.Batch, outputLength = network.Description.OutputLength;
        int[] outputShape = { batch, outputLength };
        int[] inputShape = new[] { batch }.Concat(fixture.InputShape).ToArray();

        // Forward pass. In training mode it also moves the running statistics, exactly as torch's one forward did.
        var outputs = new float[batch * outputLength];
        outputs.AsSpan().Fill(float.NaN);
        network.Predict(fixture.Inputs, outputs, batch);
        Compare(report, "outputs (Predict)", outputs, fixture.Outputs, outputShape);
        CompareState(report, network, fixture, "after Predict");
        if (!fixture.Training)
        {
            // The single-sample overload must give the same rows (evaluation mode only: training mode normalises
            // by the statistics of the batch it is given).
            var row = new float[outputLength];
            for (int s = 0; s < batch; s++)
            {
                row.AsSpan().Fill(float.NaN);
                network.Predict(fixture.Inputs.AsSpan(s * fixture.Inputs.Length / batch, fixture.Inputs.Length / batch), row);
                Compare(report, $"outputs (Predict of sample {s})", row, fixture.Outputs.AsSpan(s * outputLength, outputLength), new[] { outputLength });
            }
        }

        // Forward and backward pass from the initial running statistics again, as torch's step started from them.
        Load(network.State, network.Description.State, fixture.State);
        network.Gradients.Fill(float.NaN);
        var inputGradients = new float[fixture.Inputs.Length];
        inputGradients.AsSpan().Fill(float.NaN);
        float loss = fixture.TargetKind == TargetKind.Labels
            ? network.ComputeGradients(fixture.Inputs, fixture.Labels!, batch, inputGradients)
            : network.ComputeGradients(fixture.Inputs, fixture.Targets!, batch, inputGradients);
        Compare(report, "loss", new[] { loss }, new[] { (float)fixture.Loss }, new[] { 1 });
        var descriptions = network.Description.Parameters;
        for (int t = 0; t < descriptions.Count; t++)
        {
            var tensor = descriptions[t];
            var expected = fixture.ParameterGradients[t];
            if (expected.Name != tensor.Name) { report.Fail("gradients", $"gradient tensor {t} is {expected.Name} in the fixture but {tensor.Name} in the network"); continue; }
            Compare(report, $"gradient of {tensor.Name}", network.Gradients.Slice(tensor.Offset, tensor.Length), expected.Data, expected.Shape);
        }
        Compare(report, "input gradients", inputGradients, fixture.InputGradients, inputShape);
        CompareState(report, network, fixture, "after ComputeGradients");
        return report;
    }

    /// <summary>Names, shapes and offsets of the generated layout against torch's state_dict; false if loading would be meaningless.</summary>
    private static bool CheckLayout(INetwork network, ReferenceFixture fixture, ReferenceReport report)
    {
        var d = network.Description;
        int before = report.FailureCount;
        if (d.Name != fixture.Network) report.Fail("layout", $"the generated Description is named {d.Name}, the fixture {fixture.Network}");
        if (!d.InputShape.SequenceEqual(fixture.InputShape)) report.Fail("layout", $"input shape [{string.Join(", ", d.InputShape)}] but torch's is [{string.Join(", ", fixture.InputShape)}]");
        if (d.Loss != fixture.LossFunction) report.Fail("layout", $"loss {d.Loss} but the fixture's is {fixture.LossFunction}");
        if (fixture.Outputs.Length != fixture.Batch * d.OutputLength) report.Fail("layout", $"{d.OutputLength} outputs per sample but torch gives {fixture.Outputs.Length / fixture.Batch}");
        if (fixture.Inputs.Length != fixture.Batch * d.InputLength) report.Fail("layout", $"{d.InputLength} inputs per sample but the fixture has {fixture.Inputs.Length / fixture.Batch}");
        CheckTensors("Parameters", d.Parameters, network.Parameters.Length, fixture.Parameters);
        CheckTensors("State", d.State, network.State.Length, fixture.State);
        CheckTensors("state after the step", d.State, network.State.Length, fixture.StateAfter);
        CheckTensors("parameter gradients", d.Parameters, network.Parameters.Length, fixture.ParameterGradients);
        return report.FailureCount == before;

        void CheckTensors(string what, IReadOnlyList<TensorInfo> generated, int bufferLength, NamedTensor[] torch)
        {
            string Names(IEnumerable<string> names) => string.Join(", ", names);
            if (generated.Count != torch.Length)
            {
                report.Fail("layout", $"{what}: the network has tensors [{Names(generated.Select(t => t.Name))}] but torch's state_dict [{Names(torch.Select(t => t.Name))}]");
                return;
            }
            int offset = 0;
            for (int i = 0; i < generated.Count; i++)
            {
                var g = generated[i];
                var t = torch[i];
                if (g.Name != t.Name) report.Fail("layout", $"{what}: tensor {i} is {g.Name} but torch's is {t.Name}");
                if (!g.Shape.SequenceEqual(t.Shape)) report.Fail("layout", $"{what}: {g.Name} has shape [{string.Join(", ", g.Shape)}] but torch's is [{string.Join(", ", t.Shape)}]");
                if (g.Offset != offset || g.Length != t.Data.Length) report.Fail("layout", $"{what}: {g.Name} at offset {g.Offset}, length {g.Length}; torch's state_dict order puts it at {offset}, length {t.Data.Length}");
                offset += t.Data.Length;
            }
            if (offset != bufferLength) report.Fail("layout", $"{what}: torch's tensors hold {offset} values but the buffer has {bufferLength}");
        }
    }

    private static void Load(Span<float> buffer, IReadOnlyList<TensorInfo> layout, NamedTensor[] tensors)
    {
        for (int i = 0; i < layout.Count; i++) tensors[i].Data.CopyTo(buffer.Slice(layout[i].Offset, layout[i].Length));
    }

    /// <summary>Running statistics against torch's after its one step (in evaluation mode: unchanged).</summary>
    private static void CompareState(ReferenceReport report, INetwork network, ReferenceFixture fixture, string when)
    {
        var layout = network.Description.State;
        for (int i = 0; i < layout.Count; i++)
            Compare(report, $"{layout[i].Name} {when}", network.State.Slice(layout[i].Offset, layout[i].Length), fixture.StateAfter[i].Data, fixture.StateAfter[i].Shape);
    }

    /// <summary>Every element: |a − b| ≤ relative·max(|a|, |b|) + floor, NaN and infinity never agreeing.</summary>
    public static void Compare(ReferenceReport report, string tensor, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, int[] shape)
    {
        if (actual.Length != expected.Length)
        {
            report.Fail(tensor, $"{tensor}: {actual.Length} values but torch has {expected.Length}");
            return;
        }
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            double difference = Math.Abs(a - b), magnitude = Math.Max(Math.Abs(a), Math.Abs(b));
            double allowed = RelativeTolerance * magnitude + AbsoluteFloor;
            bool agrees = double.IsFinite(a) && difference <= allowed;
            // Pass ⇔ this ≤ RelativeTolerance: values below floor/relative = 1e-2 are measured against 1e-2.
            double relativeError = double.IsFinite(a) ? difference / (magnitude + AbsoluteFloor / RelativeTolerance) : double.NaN;
            report.Observe(relativeError, tensor, i, shape);
            if (agrees && difference > RelativeTolerance * magnitude) report.CountNearZero(difference);
            if (!agrees)
                report.Fail(tensor, string.Create(CultureInfo.InvariantCulture,
                    $"{ReferenceReport.Location(tensor, i, shape)} is {a:R} but torch gives {b:R} (difference {difference:E2}, allowed {allowed:E2})"));
        }
    }
}
