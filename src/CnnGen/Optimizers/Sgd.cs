using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Optimizers;

/// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay: torch's <c>optim.SGD</c>.</summary>
/// <remarks>
/// <para>Per element, with <c>g</c> the gradient, <c>p</c> the parameter and <c>b</c> the momentum buffer (torch 1.13):</para>
/// <code>
/// d = g + weight_decay·p                      (when weight_decay ≠ 0)
/// b = d on the first step, else momentum·b + (1 − dampening)·d   (when momentum ≠ 0)
/// d = d + momentum·b if nesterov, else b      (when momentum ≠ 0)
/// p = p − lr·d
/// </code>
/// <para>
/// The buffer is named <c>momentum_buffer</c> and exists only when momentum ≠ 0. "The first step" is
/// <see cref="Optimizer.StepCount"/> = 0; torch decides per tensor when its buffer is first created, which only
/// differs for a range that was frozen during the first step and unfrozen later (its buffer then starts from zero).
/// </para>
/// </remarks>
public sealed class Sgd : Optimizer
{
    private static readonly string[] MomentumBufferNames = ["momentum_buffer"];

    /// <summary>Creates the optimizer with zeroed state.</summary>
    /// <param name="parameterCount">Length of the parameter vector (a network's <c>ParameterCount</c>).</param>
    /// <param name="learningRate">The learning rate (torch's <c>lr</c>).</param>
    /// <param name="momentum">Momentum factor, 0 for none.</param>
    /// <param name="dampening">Dampening for momentum: the new gradient enters the buffer times 1 − dampening.</param>
    /// <param name="nesterov">Nesterov momentum; needs momentum &gt; 0 and dampening = 0.</param>
    /// <param name="weightDecay">L2 penalty: weight_decay·p is added to the gradient.</param>
    /// <param name="parameterGroups">Ranges with their own settings, or frozen (see <see cref="ParameterGroup"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is negative, NaN or infinite, or the count is not positive.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening, or a group reaches past the parameters.</exception>
    public Sgd(int parameterCount, float learningRate, double momentum = 0, double dampening = 0, bool nesterov = false,
        double weightDecay = 0, IReadOnlyList<ParameterGroup>? parameterGroups = null)
        : base(parameterCount, learningRate, parameterGroups, momentum != 0 ? MomentumBufferNames : [])
    {
        RequireInRange(momentum, 0, double.PositiveInfinity, nameof(momentum));
        RequireInRange(dampening, 0, double.PositiveInfinity, nameof(dampening));
        RequireInRange(weightDecay, 0, double.PositiveInfinity, nameof(weightDecay));
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum needs momentum > 0 and dampening = 0 (as torch).", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
    }

    /// <summary><c>"SGD"</c>.</summary>
    public override string Kind => "SGD";

    /// <summary>Momentum factor; 0 means plain gradient descent (and no buffer).</summary>
    public double Momentum { get; }

    /// <summary>Dampening for momentum.</summary>
    public double Dampening { get; }

    /// <summary>Whether momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <summary>L2 weight decay added to the gradient.</summary>
    public double WeightDecay { get; }

    private protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset,
        double learningRate, bool weightDecay, long step)
    {
        // Torch turns each Python-float coefficient into a float before the element-wise kernel; so do we.
        var coefficients = new Coefficients
        {
            WeightDecay = weightDecay ? (float)WeightDecay : 0f,
            Momentum = (float)Momentum,
            NewGradientWeight = (float)(1 - Dampening),
            NegativeLearningRate = (float)-learningRate,
            HasMomentum = Momentum != 0,
            FirstStep = step == 1,
            Nesterov = Nesterov,
        };
        Span<float> buffer = coefficients.HasMomentum ? BufferAt(0).AsSpan(offset, parameters.Length) : default;

        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float b = ref MemoryMarshal.GetReference(buffer);
        nuint length = (nuint)parameters.Length, i = 0;
        if (Lanes512.IsHardwareAccelerated) i = Run<Lanes512>(ref p, ref g, ref b, i, length, coefficients);
        if (Lanes256.IsHardwareAccelerated) i = Run<Lanes256>(ref p, ref g, ref b, i, length, coefficients);
        Run<Lane1>(ref p, ref g, ref b, i, length, coefficients);
    }

    private struct Coefficients
    {
        public float WeightDecay, Momentum, NewGradientWeight, NegativeLearningRate;
        public bool HasMomentum, FirstStep, Nesterov;
    }

    /// <summary>Updates whole groups of lanes from <paramref name="i"/> on; returns where it stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nuint Run<T>(ref float p, ref float g, ref float b, nuint i, nuint length, in Coefficients c)
        where T : struct, IFloatLanes<T>
    {
        var weightDecay = T.Broadcast(c.WeightDecay);
        var momentum = T.Broadcast(c.Momentum);
        var newGradientWeight = T.Broadcast(c.NewGradientWeight);
        var negativeLearningRate = T.Broadcast(c.NegativeLearningRate);
        bool decay = c.WeightDecay != 0, hasMomentum = c.HasMomentum, first = c.FirstStep, nesterov = c.Nesterov;
        nuint count = (nuint)T.Count;
        for (; i + count <= length; i += count)
        {
            var parameter = T.Load(ref p, i);
            var d = T.Load(ref g, i);
            // Each line is one torch kernel: add(alpha=) is a fused multiply-add, mul_ a plain multiply.
            if (decay) d = T.MultiplyAdd(parameter, weightDecay, d);
            if (hasMomentum)
            {
                var buffer = first ? d : T.MultiplyAdd(d, newGradientWeight, T.Load(ref b, i) * momentum);
                T.Store(buffer, ref b, i);
                d = nesterov ? T.MultiplyAdd(buffer, momentum, d) : buffer;
            }
            T.Store(T.MultiplyAdd(d, negativeLearningRate, parameter), ref p, i);
        }
        return i;
    }
}
