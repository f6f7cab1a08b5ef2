using System;
using System.Collections.Generic;
using CnnGen.Generator.Diagnostics;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Shapes;

/// <summary>
/// Checks a declaration and infers every layer's shapes with PyTorch's formulas
/// (out = floor((in + padBefore + padAfter - dilation·(k - 1) - 1) / stride) + 1), parameter offsets in
/// state_dict order, multiply-accumulates and receptive fields. Any error yields no model, only diagnostics.
/// </summary>
internal static class ShapeInference
{
    public static (NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics) Run(NetworkDeclaration network)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var classLocation = network.ClassLocation;

        if (!network.IsPartial)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, classLocation, network.ClassName));
        if (network.IsStatic)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StaticClass, classLocation, network.ClassName));
        bool genericOuter = false;
        foreach (var outer in network.ContainingTypes)
        {
            genericOuter |= outer.IsGeneric;
            if (!outer.IsPartial)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial, classLocation, network.ClassName, outer.Keyword, outer.Name));
        }
        if (network.IsGeneric || genericOuter)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.Generic, classLocation, network.ClassName));

        foreach (var (value, what) in new[] { (network.Channels, "channel count"), (network.Height, "height"), (network.Width, "width") })
        {
            if (value < 1)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidInput, network.NetworkLocation, network.ClassName, what, value));
        }
        if (network.Layers.Count == 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.EmptyNetwork, network.NetworkLocation ?? classLocation, network.ClassName));
        if (diagnostics.Count == 0 && (double)network.Channels * network.Height * network.Width > int.MaxValue)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, network.NetworkLocation, network.ClassName,
                $"the input [{network.Channels}×{network.Height}×{network.Width}]", int.MaxValue));
        foreach (var conflict in network.Conflicts)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberConflict, conflict.Location ?? classLocation, conflict.Kind, conflict.Name, network.ClassName));
        if (diagnostics.Count > 0) return (null, diagnostics.ToEquatableArray());

        var input = new TensorShape(network.Channels, network.Height, network.Width, IsFlat: false);
        var layers = new List<LayerModel>();
        var shape = input;
        long parameterOffset = 0, stateOffset = 0;
        int torchIndex = 0, receptiveField = 1, jump = 1;
        bool failed = false;

        for (int i = 0; i < network.Layers.Count; i++)
        {
            var declaration = network.Layers[i];
            var context = new LayerContext(network.ClassName, i, declaration, diagnostics);
            var layer = InferLayer(context, shape, ref torchIndex, ref receptiveField, ref jump, Math.Max(network.Height, network.Width));
            if (layer is null || context.Failed) { failed = true; break; }
            layer = layer with { ParameterOffset = (int)Math.Min(parameterOffset, int.MaxValue), StateOffset = (int)Math.Min(stateOffset, int.MaxValue) };
            parameterOffset += (long)layer.WeightLength + layer.BiasLength;
            if (layer.Kind == LayerKind.BatchNorm2D) stateOffset += 2L * layer.Output.Channels;
            layers.Add(layer);
            shape = layer.Output;
        }
        if (failed) return (null, diagnostics.ToEquatableArray());

        // The training workspace of one sample holds every layer's output, and up to two more buffers per layer.
        double workspace = 0;
        foreach (var layer in layers) workspace += 3.0 * layer.Output.Length;
        if (workspace > int.MaxValue)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, network.NetworkLocation, network.ClassName, $"one sample's training workspace ({workspace} floats)", int.MaxValue));
            return (null, diagnostics.ToEquatableArray());
        }

        if (parameterOffset > int.MaxValue)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NetworkTooLarge, network.NetworkLocation, network.ClassName, "the parameter count " + parameterOffset, int.MaxValue));
            return (null, diagnostics.ToEquatableArray());
        }

        var output = shape;
        switch (network.Loss)
        {
            case LossKind.SoftmaxCrossEntropy when output.Length < 2 || (!output.IsFlat && output.Height * output.Width != 1):
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossDoesNotFit, network.NetworkLocation, network.ClassName,
                    "Loss.SoftmaxCrossEntropy", "a flat output of at least 2 classes", output));
                return (null, diagnostics.ToEquatableArray());
            case LossKind.SoftmaxCrossEntropy or LossKind.BinaryCrossEntropy or LossKind.MeanSquaredError:
                break;
            default:
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LossDoesNotFit, network.NetworkLocation, network.ClassName,
                    "Loss = " + (int)network.Loss, "a defined Loss value", output));
                return (null, diagnostics.ToEquatableArray());
        }

        var model = new NetworkModel(network.Namespace, network.ContainingTypes, network.ClassName, input, network.Loss,
            layers.ToEquatableArray(), (int)parameterOffset, (int)stateOffset);
        return (model, diagnostics.ToEquatableArray());
    }

    /// <summary>Collects one layer's diagnostics, each located on its attribute and naming the layer.</summary>
    private sealed class LayerContext(string network, int index, LayerDeclaration declaration, List<DiagnosticInfo> diagnostics)
    {
        public int Index { get; } = index;
        public LayerDeclaration Declaration { get; } = declaration;
        public bool Failed { get; private set; }

        public void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params object[] arguments)
        {
            Failed = true;
            diagnostics.Add(DiagnosticInfo.Create(descriptor, Declaration.Location, arguments));
        }

        public void RequireAtLeast(int value, int minimum, string what)
        {
            if (value < minimum)
                Report(DiagnosticDescriptors.NonPositiveSize, Index, Declaration.AttributeName, what, value, minimum == 0 ? "zero or more" : "at least " + minimum);
        }

        /// <summary>
        /// Reports CNN0013 when a buffer of this shape would not fit one .NET array (every buffer is one). The product is
        /// taken in double, which cannot overflow, so an absurd size is reported instead of wrapping around.
        /// </summary>
        public bool RequireArray(string what, params long[] shape)
        {
            double elements = 1;
            foreach (long extent in shape) elements *= extent;
            if (elements <= int.MaxValue) return true;
            Report(DiagnosticDescriptors.NetworkTooLarge, network, $"layer {Index}'s {what} [{string.Join("×", shape)}]", int.MaxValue);
            return false;
        }

        public void RequireSpatial(TensorShape input)
        {
            if (input.IsFlat) Report(DiagnosticDescriptors.SpatialLayerOnFlatInput, Index, Declaration.AttributeName, input);
        }

        public void RequireDefined(ActivationKind activation)
        {
            if (activation < ActivationKind.None || activation > ActivationKind.SiLU)
                Report(DiagnosticDescriptors.UnknownEnumValue, Index, Declaration.AttributeName, "Activation", (int)activation);
            else if (activation == ActivationKind.LeakyReLU && (float.IsNaN(Declaration.Alpha) || float.IsInfinity(Declaration.Alpha)))
                Report(DiagnosticDescriptors.InvalidAlpha, Index, Declaration.AttributeName, Declaration.Alpha);
        }
    }

    private static LayerModel? InferLayer(LayerContext context, TensorShape input, ref int torchIndex, ref int receptiveField, ref int jump, int inputExtent)
    {
        var d = context.Declaration;
        var layer = new LayerModel(context.Index, d.Kind, input, input, KernelHeight: 1, KernelWidth: 1, StrideHeight: 1, StrideWidth: 1,
            PadTop: 0, PadLeft: 0, DilationHeight: 1, DilationWidth: 1, Groups: 1, Bias: false, Activation: d.Activation, Alpha: d.Alpha,
            Momentum: d.Momentum, Epsilon: d.Epsilon, Probability: d.Probability, ParameterOffset: 0, WeightLength: 0, BiasLength: 0,
            StateOffset: 0, TorchIndex: torchIndex, MultiplyAccumulates: 0, ReceptiveField: receptiveField);

        switch (d.Kind)
        {
            case LayerKind.Conv2D:
                return Convolution(context, layer, input, ref torchIndex, ref receptiveField, ref jump);
            case LayerKind.MaxPool2D:
            case LayerKind.AvgPool2D:
                return Pooling(context, layer, input, ref torchIndex, ref receptiveField, ref jump);
            case LayerKind.GlobalAvgPool2D:
                context.RequireSpatial(input);
                torchIndex++;
                receptiveField = inputExtent;
                return layer with { Output = new TensorShape(input.Channels, 1, 1, IsFlat: false), ReceptiveField = receptiveField };
            case LayerKind.Dense:
            {
                context.RequireAtLeast(d.Size, 1, "the number of units");
                context.RequireDefined(d.Activation);
                if (context.Failed) return null;
                if (!input.IsFlat) torchIndex++; // the nn.Flatten() before it
                int index = torchIndex++;
                if (d.Activation != ActivationKind.None) torchIndex++;
                receptiveField = inputExtent;
                if (!context.RequireArray("weight", d.Size, input.Length)) return null;
                long weights = (long)input.Length * d.Size;
                return layer with
                {
                    Output = new TensorShape(d.Size, 1, 1, IsFlat: true), Bias = d.Bias, TorchIndex = index,
                    WeightLength = (int)weights, BiasLength = d.Bias ? d.Size : 0, MultiplyAccumulates = weights,
                    ReceptiveField = receptiveField,
                };
            }
            case LayerKind.BatchNorm2D:
                context.RequireSpatial(input);
                if (!(d.Momentum >= 0f && d.Momentum <= 1f))
                    context.Report(DiagnosticDescriptors.InvalidBatchNorm, context.Index, "Momentum", d.Momentum, "in [0, 1]");
                if (!(d.Epsilon > 0f) || float.IsInfinity(d.Epsilon))
                    context.Report(DiagnosticDescriptors.InvalidBatchNorm, context.Index, "Epsilon", d.Epsilon, "a positive number");
                if (context.Failed) return null;
                torchIndex++;
                return layer with { WeightLength = input.Channels, BiasLength = input.Channels, Bias = true };
            case LayerKind.Dropout:
                if (!(d.Probability >= 0f && d.Probability < 1f))
                    context.Report(DiagnosticDescriptors.InvalidProbability, context.Index, d.Probability);
                torchIndex++;
                return layer;
            case LayerKind.Activation:
                context.RequireDefined(d.Activation);
                torchIndex++;
                return layer;
            default:
                return null;
        }
    }

    private static LayerModel? Convolution(LayerContext context, LayerModel layer, TensorShape input, ref int torchIndex, ref int receptiveField, ref int jump)
    {
        var d = context.Declaration;
        context.RequireSpatial(input);
        context.RequireAtLeast(d.Size, 1, "the number of output channels");
        context.RequireAtLeast(d.KernelHeight, 1, "the kernel height");
        context.RequireAtLeast(d.KernelWidth, 1, "the kernel width");
        context.RequireAtLeast(d.Stride, 1, "Stride");
        context.RequireAtLeast(d.Dilation, 1, "Dilation");
        context.RequireAtLeast(d.Groups, 1, "Groups");
        context.RequireAtLeast(d.Padding, 0, "Padding");
        context.RequireDefined(d.Activation);
        if (d.PaddingMode < PaddingKind.Explicit || d.PaddingMode > PaddingKind.Valid)
            context.Report(DiagnosticDescriptors.UnknownEnumValue, context.Index, "Conv2D", "PaddingMode", (int)d.PaddingMode);
        if (d.Winograd < WinogradKind.Auto || d.Winograd > WinogradKind.F4x4)
            context.Report(DiagnosticDescriptors.UnknownEnumValue, context.Index, "Conv2D", "Winograd", (int)d.Winograd);
        if (context.Failed) return null;
        if (d.Winograd is WinogradKind.F2x2 or WinogradKind.F4x4)
        {
            // Winograd's tiles are those of a 3×3 window moved by one pixel over every channel; its kernels run on
            // vectors of output channels, 8 to a Vector256.
            var unsuited = new List<string>();
            if (d.KernelHeight != 3 || d.KernelWidth != 3) unsuited.Add($"a {d.KernelHeight}×{d.KernelWidth} kernel");
            if (d.Stride != 1) unsuited.Add($"Stride = {d.Stride}");
            if (d.Dilation != 1) unsuited.Add($"Dilation = {d.Dilation}");
            if (d.Groups != 1) unsuited.Add($"Groups = {d.Groups}");
            if (d.Size < 8) unsuited.Add($"{d.Size} output channels");
            if (unsuited.Count > 0)
            {
                context.Report(DiagnosticDescriptors.WinogradUnsuited, context.Index, $"WinogradMode.{d.Winograd}", string.Join(", ", unsuited));
                return null;
            }
        }
        if (d.PaddingMode == PaddingKind.Same && d.Stride != 1)
        {
            context.Report(DiagnosticDescriptors.SameWithStride, context.Index, d.Stride);
            return null;
        }
        if (input.Channels % d.Groups != 0)
            context.Report(DiagnosticDescriptors.GroupsMismatch, context.Index, $"the {input.Channels} input", d.Groups);
        if (d.Size % d.Groups != 0)
            context.Report(DiagnosticDescriptors.GroupsMismatch, context.Index, $"the {d.Size} output", d.Groups);
        if (context.Failed) return null;

        // The dilated extent, and the paddings and offsets derived from it, are ints: bound the dilation so it fits.
        if ((long)d.Dilation * (Math.Max(d.KernelHeight, d.KernelWidth) - 1) + 1 > int.MaxValue)
        {
            context.Report(DiagnosticDescriptors.NonPositiveSize, context.Index, "Conv2D", "Dilation", d.Dilation,
                $"at most {(int.MaxValue - 1) / (Math.Max(d.KernelHeight, d.KernelWidth) - 1)} for a {d.KernelHeight}×{d.KernelWidth} kernel");
            return null;
        }
        int extentH = d.Dilation * (d.KernelHeight - 1) + 1, extentW = d.Dilation * (d.KernelWidth - 1) + 1;
        int padTop, padBottom, padLeft, padRight;
        switch (d.PaddingMode)
        {
            case PaddingKind.Same:
                padTop = (extentH - 1) / 2; padBottom = extentH - 1 - padTop;
                padLeft = (extentW - 1) / 2; padRight = extentW - 1 - padLeft;
                break;
            case PaddingKind.Valid:
                padTop = padBottom = padLeft = padRight = 0;
                break;
            default:
                padTop = padBottom = padLeft = padRight = d.Padding;
                break;
        }
        long spanH = (long)input.Height + padTop + padBottom - extentH, spanW = (long)input.Width + padLeft + padRight - extentW;
        if (spanH < 0 || spanW < 0)
        {
            string padding = padTop == padBottom && padLeft == padRight && padTop == padLeft ? padTop.ToString() : $"{padTop}/{padBottom} rows and {padLeft}/{padRight} columns";
            context.Report(DiagnosticDescriptors.WindowDoesNotFit, context.Index, "Conv2D", $"{d.KernelHeight}×{d.KernelWidth}",
                $"{extentH}×{extentW}", $"{input.Height}×{input.Width}", padding);
            return null;
        }
        long outH = spanH / d.Stride + 1, outW = spanW / d.Stride + 1;
        int inPerGroup = input.Channels / d.Groups;
        if (!context.RequireArray("weight", d.Size, inPerGroup, d.KernelHeight, d.KernelWidth) ||
            !context.RequireArray("output", d.Size, outH, outW) ||
            !context.RequireArray("im2col buffer", (long)input.Channels * d.KernelHeight * d.KernelWidth, outH * outW))
            return null;
        long weights = (long)d.Size * inPerGroup * d.KernelHeight * d.KernelWidth;
        long macs = weights * outH * outW;
        int index = torchIndex++;
        if (d.Activation != ActivationKind.None) torchIndex++;
        receptiveField += (extentH - 1) * jump;
        jump *= d.Stride;
        return layer with
        {
            Output = new TensorShape(d.Size, (int)outH, (int)outW, IsFlat: false),
            KernelHeight = d.KernelHeight, KernelWidth = d.KernelWidth, StrideHeight = d.Stride, StrideWidth = d.Stride,
            PadTop = padTop, PadLeft = padLeft, DilationHeight = d.Dilation, DilationWidth = d.Dilation, Groups = d.Groups,
            Bias = d.Bias, TorchIndex = index, WeightLength = (int)weights, BiasLength = d.Bias ? d.Size : 0,
            MultiplyAccumulates = macs, ReceptiveField = receptiveField, Winograd = d.Winograd,
        };
    }

    private static LayerModel? Pooling(LayerContext context, LayerModel layer, TensorShape input, ref int torchIndex, ref int receptiveField, ref int jump)
    {
        var d = context.Declaration;
        context.RequireSpatial(input);
        context.RequireAtLeast(d.KernelHeight, 1, "the kernel size");
        context.RequireAtLeast(d.Stride, 0, "Stride");
        context.RequireAtLeast(d.Padding, 0, "Padding");
        if (context.Failed) return null;
        int kernel = d.KernelHeight, stride = d.Stride == 0 ? kernel : d.Stride;
        if (d.Padding > kernel / 2)
        {
            context.Report(DiagnosticDescriptors.PoolPaddingTooLarge, context.Index, d.AttributeName, d.Padding, kernel, kernel / 2);
            return null;
        }
        long spanH = (long)input.Height + 2 * d.Padding - kernel, spanW = (long)input.Width + 2 * d.Padding - kernel;
        if (spanH < 0 || spanW < 0)
        {
            context.Report(DiagnosticDescriptors.WindowDoesNotFit, context.Index, d.AttributeName, $"{kernel}×{kernel}",
                $"{kernel}×{kernel}", $"{input.Height}×{input.Width}", d.Padding);
            return null;
        }
        torchIndex++;
        receptiveField += (kernel - 1) * jump;
        jump *= stride;
        return layer with
        {
            Output = new TensorShape(input.Channels, (int)(spanH / stride) + 1, (int)(spanW / stride) + 1, IsFlat: false),
            KernelHeight = kernel, KernelWidth = kernel, StrideHeight = stride, StrideWidth = stride,
            PadTop = d.Padding, PadLeft = d.Padding, ReceptiveField = receptiveField,
        };
    }
}
