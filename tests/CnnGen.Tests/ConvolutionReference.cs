using System;

namespace CnnGen.Tests;

/// <summary>
/// One convolution layer's hyper-parameters as a test declares them next to its network, and the layer's passes by
/// their definition, in double: the reference that the direct and pixel-vectorised kernels are compared with.
/// </summary>
public sealed record ConvolutionShape(
    int C, int H, int W, int OC, int KH, int KW, int Stride, int Dilation, int PadTop, int PadBottom, int PadLeft, int PadRight, bool Bias, string Activation)
{
    public int OutputHeight => (H + PadTop + PadBottom - ((KH - 1) * Dilation + 1)) / Stride + 1;

    public int OutputWidth => (W + PadLeft + PadRight - ((KW - 1) * Dilation + 1)) / Stride + 1;

    /// <summary>z[oc][oy][ox] = bias[oc] + Σ W[oc][c][ky][kx]·x[c][oy·S − pad + ky·D][ox·S − pad + kx·D] of one sample, in double.</summary>
    public double[] PreActivation(ReadOnlySpan<float> parameters, ReadOnlySpan<float> x)
    {
        var sample = new double[x.Length];
        for (int i = 0; i < x.Length; i++) sample[i] = x[i];
        return Forward(parameters, 0, sample, 1);
    }

    /// <summary>
    /// The forward pass, then the gradients by their definition, of a chain of these convolutions without activations
    /// (each layer's output is the next one's input), in double: the outputs, dW and db of every layer at its
    /// <paramref name="weightOffsets"/> in the parameters, and dX of the first, each gradient with its sum of absolute
    /// terms (float rounding grows with it, not with the possibly cancelling result). <paramref name="dy"/> is dLoss/dY
    /// of the last layer.
    /// </summary>
    public static (double[] Outputs, double[] Parameters, double[] ParameterScale, double[] Inputs, double[] InputScale) Gradients(
        ConvolutionShape[] layers, int[] weightOffsets, float[] parameters, float[] x, double[] dy, int batch)
    {
        var activations = new double[layers.Length + 1][];
        activations[0] = Array.ConvertAll(x, v => (double)v);
        for (int l = 0; l < layers.Length; l++)
            activations[l + 1] = layers[l].Forward(parameters, weightOffsets[l], activations[l], batch);

        var dParameters = new double[parameters.Length];
        var parameterScale = new double[parameters.Length];
        double[] g = dy, gAbs = Array.ConvertAll(dy, Math.Abs);
        for (int l = layers.Length - 1; l >= 0; l--)
        {
            var s = layers[l];
            int oh = s.OutputHeight, ow = s.OutputWidth, w0 = weightOffsets[l], b0 = w0 + s.OC * s.C * s.KH * s.KW;
            int inLength = s.C * s.H * s.W, outLength = s.OC * oh * ow;
            var dx = new double[batch * inLength];
            var dxAbs = new double[dx.Length];
            for (int n = 0; n < batch; n++)
                for (int oc = 0; oc < s.OC; oc++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int o = n * outLength + (oc * oh + oy) * ow + ox;
                            if (s.Bias) { dParameters[b0 + oc] += g[o]; parameterScale[b0 + oc] += gAbs[o]; }
                            for (int c = 0; c < s.C; c++)
                                for (int ky = 0; ky < s.KH; ky++)
                                    for (int kx = 0; kx < s.KW; kx++)
                                    {
                                        int iy = oy * s.Stride - s.PadTop + ky * s.Dilation, ix = ox * s.Stride - s.PadLeft + kx * s.Dilation;
                                        if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
                                        int w = w0 + ((oc * s.C + c) * s.KH + ky) * s.KW + kx, i = n * inLength + (c * s.H + iy) * s.W + ix;
                                        double a = activations[l][i];
                                        dParameters[w] += g[o] * a;
                                        parameterScale[w] += gAbs[o] * Math.Abs(a);
                                        dx[i] += g[o] * parameters[w];
                                        dxAbs[i] += gAbs[o] * Math.Abs(parameters[w]);
                                    }
                        }
            (g, gAbs) = (dx, dxAbs);
        }
        return (activations[layers.Length], dParameters, parameterScale, g, gAbs);
    }

    /// <summary>z of a batch of <paramref name="batch"/> samples, the layer's weights at <paramref name="w0"/> in the parameters and its bias after them.</summary>
    private double[] Forward(ReadOnlySpan<float> parameters, int w0, double[] x, int batch)
    {
        int oh = OutputHeight, ow = OutputWidth, inLength = C * H * W, outLength = OC * oh * ow, b0 = w0 + OC * C * KH * KW;
        var z = new double[batch * outLength];
        for (int n = 0; n < batch; n++)
            for (int oc = 0; oc < OC; oc++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        double sum = Bias ? parameters[b0 + oc] : 0;
                        for (int c = 0; c < C; c++)
                            for (int ky = 0; ky < KH; ky++)
                                for (int kx = 0; kx < KW; kx++)
                                {
                                    int iy = oy * Stride - PadTop + ky * Dilation, ix = ox * Stride - PadLeft + kx * Dilation;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                    sum += (double)parameters[w0 + ((oc * C + c) * KH + ky) * KW + kx] * x[n * inLength + (c * H + iy) * W + ix];
                                }
                        z[n * outLength + (oc * oh + oy) * ow + ox] = sum;
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
