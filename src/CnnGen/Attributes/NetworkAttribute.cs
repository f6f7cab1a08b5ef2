using System;

namespace CnnGen;

/// <summary>
/// Marks a <c>partial class</c> as a CNN whose code CnnGen generates at build time.
/// The layer attributes on the same class, in source order, are the layers.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>Declares the input of one sample: channels × height × width (NCHW order).</summary>
    public NetworkAttribute(int channels, int height, int width)
    {
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Input channels.</summary>
    public int Channels { get; }
    /// <summary>Input height.</summary>
    public int Height { get; }
    /// <summary>Input width.</summary>
    public int Width { get; }
    /// <summary>The training loss; softmax cross-entropy unless set.</summary>
    public Loss Loss { get; set; } = Loss.SoftmaxCrossEntropy;
}
