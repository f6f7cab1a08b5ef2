using System;

namespace CnnGen.Tests;

/// <summary>
/// One convolution layer's hyper-parameters as a test declares them next to its network, and the layer's forward pass
/// by its definition, in double: the reference that the direct and pixel-vectorised kernels are compared with.
/// </summary>
public sealed record ConvolutionShape(
    int C, int H, int W, int OC, int KH, int KW, int Stride, int Dilation, int PadTop, int PadBottom, int PadLeft, int PadRight, bool Bias, string Activation)
{
    public int OutputHeight => (H + PadTop + PadBottom - ((KH - 1) * Dilation + 1)) / Stride + 1;

    public int OutputWidth => (W + PadLeft + PadRight - ((KW - 1) * Dilation + 1)) / Stride + 1;

    /// <summary>z[oc][oy][ox] = bias[oc] + Σ W[oc][c][ky][kx]·x[c][oy·S − pad + ky·D][ox·S − pad + kx·D], in double.</summary>
    public double[] PreActivation(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x)
    {
        int oh = OutputHeight, ow = OutputWidth, k = C * KH * KW;
        var z = new double[OC * oh * ow];
        for (int oc = 0; oc < OC; oc++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double sum = Bias ? parameters[OC * k + oc] : 0;
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < KH; ky++)
                            for (int kx = 0; kx < KW; kx++)
                            {
                                int iy = oy * Stride - PadTop + ky * Dilation, ix = ox * Stride - PadLeft + kx * Dilation;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                sum += (double)parameters[((oc * C + c) * KH + ky) * KW + kx] * x[(c * H + iy) * W + ix];
                            }
                    z[(oc * oh + oy) * ow + ox] = sum;
                }
        return z;
    }

    /// <summary>The layer's activation of one pre-activation value ("" for none).</summary>
    public double Activate(double z) => Activation switch
    {
        "ReLU" => Math.Max(z, 0),
        "Tanh" => Math.Tanh(z),
        "" => z,
        _ => throw new ArgumentException($"no reference for activation {Activation}"),
    };

    /// <summary>y = act(z), the layer's output.</summary>
    public double[] Output(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x)
    {
        var y = PreActivation(parameters, x);
        for (int i = 0; i < y.Length; i++) y[i] = Activate(y[i]);
        return y;
    }
}
