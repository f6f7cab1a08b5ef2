using System;
using System.Collections.Generic;

namespace CnnGen.Optimizers;

/// <summary>
/// What <see cref="Adam"/> and <see cref="AdamW"/> share: the moment buffers, the hyper-parameters and the update
/// (<see cref="AdamUpdate"/>); they differ only in how weight decay enters, as in torch.
/// </summary>
public abstract class AdamFamily : Optimizer
{
    private readonly AdamUpdate.Settings _settings;
    private readonly bool _decoupledDecay;

    private protected AdamFamily(int parameterCount, float learningRate, double beta1, double beta2, double epsilon,
        double weightDecay, bool amsGrad, IReadOnlyList<ParameterGroup>? parameterGroups, bool decoupledDecay)
        : base(parameterCount, learningRate, parameterGroups, amsGrad ? AdamUpdate.NamesWithAmsGrad : AdamUpdate.Names)
    {
        AdamUpdate.Validate(beta1, beta2, epsilon, weightDecay);
        _settings = new AdamUpdate.Settings(beta1, beta2, epsilon, amsGrad);
        _decoupledDecay = decoupledDecay;
        WeightDecay = weightDecay;
    }

    /// <summary>Decay of the running mean of gradients.</summary>
    public double Beta1 => _settings.Beta1;

    /// <summary>Decay of the running mean of squared gradients.</summary>
    public double Beta2 => _settings.Beta2;

    /// <summary>Added to the denominator for numerical stability.</summary>
    public double Epsilon => _settings.Epsilon;

    /// <summary>Weight decay: an L2 term added to the gradient (<see cref="Adam"/>) or decoupled (<see cref="AdamW"/>).</summary>
    public double WeightDecay { get; }

    /// <summary>Whether the AMSGrad variant is used (adds the <c>max_exp_avg_sq</c> buffer).</summary>
    public bool AmsGrad => _settings.AmsGrad;

    private protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset,
        double learningRate, bool weightDecay, long step)
    {
        int length = parameters.Length;
        double decay = weightDecay ? WeightDecay : 0;
        AdamUpdate.Step(parameters, gradients, BufferAt(0).AsSpan(offset, length), BufferAt(1).AsSpan(offset, length),
            AmsGrad ? BufferAt(2).AsSpan(offset, length) : default, _settings, learningRate, step,
            l2: _decoupledDecay ? 0 : decay, decoupledDecay: _decoupledDecay ? decay : 0);
    }
}
