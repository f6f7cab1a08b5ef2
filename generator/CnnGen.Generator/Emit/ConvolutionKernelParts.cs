using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>The zero-padded input geometry of a direct convolution's kernels (channel- or pixel-vectorised).</summary>
internal interface IPaddedInput
{
    int PaddedHeight { get; }
    int PaddedWidth { get; }
    /// <summary>Whether the kernels copy each sample into a zero-padded buffer, or read the input in place.</summary>
    bool NeedsPaddedCopy { get; }
}

/// <summary>Pieces every direct-convolution kernel family shares: the choice of vector width, the padded input copy.</summary>
internal static class ConvolutionKernelParts
{
    /// <summary>
    /// A vector value of a convolution's output as its kernel stores it: ReLU applied (<c>maxps 0, x</c>, one
    /// instruction, where IEEE's <c>Vector512.Max</c> takes three) when the layer's activation runs in the kernel.
    /// Every kernel family's epilogue goes through here, so they all agree, −0 included.
    /// </summary>
    public static string Activated(LayerModel l, string value) =>
        l.ReLUInKernel ? $"global::CnnGen.Internal.VectorMath.ReLU({value})" : value;

    /// <summary>
    /// The field that records the parameters a layer's packed weights (the buffer <paramref name="packed"/> + index)
    /// were packed from, for <c>GeneratedSupport.IsPackedFrom</c>: <paramref name="packed"/> + "Source" + index, the
    /// layer's ParameterCount + 1 floats.
    /// </summary>
    public static void EmitPackedSourceField(SourceWriter w, LayerModel l, string packed) =>
        w.Line($"private readonly float[] {packed}Source{l.Index} = new float[{l.ParameterCount + 1}]; // the parameters {packed}{l.Index} was packed from, and 1 once packed");

    /// <summary>
    /// Opens the block that packs <paramref name="l"/>'s weights into <paramref name="packed"/> + index only when its
    /// parameters differ from those recorded in the field of <see cref="EmitPackedSourceField"/>, or in
    /// <paramref name="source"/> where the kernel chose its layer's record (<see cref="EmitPackedSelector"/>); not even
    /// compared when <paramref name="current"/> (a bool the kernel takes) says the caller knows them current.
    /// </summary>
    public static void OpenUnlessPacked(SourceWriter w, LayerModel l, string packed, KernelOffsets at, string? source = null, string? current = null) =>
        w.Open($"if ({(current is null ? "" : $"!{current} && ")}!global::CnnGen.Internal.GeneratedSupport.IsPackedFrom(_parameters.Slice({at.Parameter(0)}, {l.ParameterCount}), {source ?? $"{packed}Source{l.Index}"}))");

    /// <summary>
    /// For kernels that several layers share (<see cref="KernelOffsets.Shared"/>) and whose packed weights each of
    /// them keeps (the fields <paramref name="packed"/> + index and its Source, one pair per layer of
    /// <paramref name="users"/>): <paramref name="method"/>(parameterOffset), the pair of the layer whose parameters
    /// start there. One buffer for the family made each layer pack its weights again over the one before's at every
    /// call, though they had not changed: in the ResNet-20-sized network's inference the Winograd U of the 64-channel
    /// family (five layers) was transformed five times per call (16 % of a batch-1 prediction with the copy that
    /// records the parameters, 9 % at batch 64).
    /// </summary>
    public static void EmitPackedSelector(SourceWriter w, string method, string packed, string what, IEnumerable<LayerModel> users)
    {
        w.Line($"/// <summary>{what} of the layer whose parameters start at <paramref name=\"parameterOffset\"/>, and the parameters they were packed from: each layer that runs these kernels keeps its own.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]"); // compiled optimised at its first call, as the kernels that call it
        w.Line($"private (float[] Packed, float[] Source) {method}(int parameterOffset) => parameterOffset switch");
        w.Line("{");
        foreach (var user in users)
            w.Line($"{Literals.Int(user.ParameterOffset)} => ({packed}{user.Index}, {packed}Source{user.Index}), // {user.Name}");
        w.Line("_ => throw new global::System.ArgumentOutOfRangeException(nameof(parameterOffset)),");
        w.Line("};");
        w.Line();
    }

    /// <summary>
    /// Calls <paramref name="method"/> suffixed with the widest accelerated vector width among <paramref name="widths"/>
    /// (widest first: 512, 256), else its Scalar variant, or <paramref name="scalarMethod"/> where the path without
    /// SIMD is another kernel's (Winograd's: the direct scalar one); <paramref name="vectorArguments"/> and
    /// <paramref name="typeArguments"/> go to the vector kernels only.
    /// </summary>
    public static void EmitDispatch(SourceWriter w, IEnumerable<(string Vector, int Width)> widths, string method, string arguments, string vectorArguments = "", string typeArguments = "", string? scalarMethod = null)
    {
        bool first = true;
        foreach (var (vector, width) in widths)
        {
            w.Line($"{(first ? "if" : "else if")} ({vector}.IsHardwareAccelerated) {method}{width * 32}{typeArguments}({arguments}{vectorArguments});");
            first = false;
        }
        w.Line($"{(first ? "" : "else ")}{scalarMethod ?? method + "Scalar"}({arguments});");
    }

    /// <summary>The type argument of a vector kernel generic over its pooling epilogue (<see cref="EmitForwardPooled"/>) for inference.</summary>
    public const string PooledEpilogue = "global::CnnGen.Internal.Epilogue.Pooled";

    /// <summary>The type argument of a vector kernel generic over its pooling epilogue for training, which records the winners.</summary>
    public const string WinnersEpilogue = "global::CnnGen.Internal.Epilogue.PooledWithWinners";

    /// <summary>
    /// The <c>_ForwardPooled</c> method of a convolution whose vector kernels run <paramref name="pool"/> (a 2×2 stride-2
    /// max pooling) in their epilogue when passed <c>true</c>: for inference, only the pooled output is stored. Without
    /// vectors, the scalar forward and the pooling layer run one after the other through "unpooled".
    /// </summary>
    /// <param name="epilogueTypeArgument">
    /// Whether the vector kernels are generic over their epilogue, so that the JIT compiles the pooling with winners
    /// only for training and the pooling alone only for inference (the pixel-vectorised kernels, whose winners'
    /// epilogue is unrolled in registers: LeNet-5's first layer took 24–34 ms to compile with both, 9–11 ms with the
    /// pooling alone). The direct kernels record winners through one call to a helper and keep one instantiation.
    /// </param>
    public static void EmitForwardPooled(SourceWriter w, Model.LayerModel l, Model.LayerModel pool, IEnumerable<(string Vector, int Width)> widths, string method,
        bool recordsWinners = false, bool epilogueTypeArgument = false)
    {
        if (recordsWinners)
            w.Line($"/// <summary>{l.Name} forward and {pool.Name} in one pass: each block of output rows is pooled while in L1 and only the pooled {pool.Output} is stored, with, when <paramref name=\"indices\"/> is not empty, each window's winner as {pool.Name}'s forward records it (training). Without vectors, the two layers one after the other through <paramref name=\"unpooled\"/>.</summary>");
        else
            w.Line($"/// <summary>{l.Name} forward and {pool.Name} in one pass, for inference: each block of output rows is pooled while in L1 and only the pooled {pool.Output} is stored. Without vectors, the two layers one after the other through <paramref name=\"unpooled\"/>.</summary>");
        w.OpenMethod($"private void {l.Name}_ForwardPooled(ReadOnlySpan<float> x, Span<float> unpooled, Span<float> y, int n{(recordsWinners ? ", Span<int> indices = default" : "")})");
        bool first = true;
        foreach (var (vector, width) in widths)
        {
            if (epilogueTypeArgument)
            {
                w.Open($"{(first ? "if" : "else if")} ({vector}.IsHardwareAccelerated)");
                w.Line($"if (indices.IsEmpty) {method}{width * 32}<{PooledEpilogue}>(x, y, n, true, default);");
                w.Line($"else {method}{width * 32}<{WinnersEpilogue}>(x, y, n, true, indices);");
                w.Close();
            }
            else w.Line($"{(first ? "if" : "else if")} ({vector}.IsHardwareAccelerated) {method}{width * 32}(x, y, n, true{(recordsWinners ? ", indices" : "")});");
            first = false;
        }
        w.Open("else");
        w.Line($"{l.Name}_ForwardScalar(x, unpooled, n);");
        w.Line($"{pool.Name}_Forward(unpooled, y, n, {(recordsWinners ? "indices" : "default")});");
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>
    /// Copies one sample (<paramref name="sample"/>, NCHW) into the interior of the zero-padded buffer "padded",
    /// whose border was zeroed at allocation and is never written; nothing where the kernels read the input in place.
    /// </summary>
    public static void EmitPaddedCopy(SourceWriter w, Model.LayerModel l, IPaddedInput geometry, string sample)
    {
        if (!geometry.NeedsPaddedCopy) return;
        int paddedWidth = geometry.PaddedWidth, plane = geometry.PaddedHeight * paddedWidth, width = l.Input.Width;
        w.Line("// the sample into the interior of the padded copy; the border stays zero");
        w.Open($"for (int c = 0; c < {l.Input.Channels}; c++)");
        w.Open($"for (int iy = 0; iy < {l.Input.Height}; iy++)");
        w.Line($"ref float from = ref Unsafe.Add(ref {sample}, (c * {l.Input.Height} + iy) * {width});");
        w.Line($"ref float to = ref Unsafe.Add(ref padded, c * {plane} + (iy + {l.PadTop}) * {paddedWidth} + {l.PadLeft});");
        if (width >= 8)
        {
            w.Open("if (Vector256.IsHardwareAccelerated)");
            w.Line($"for (nuint j = 0; j < {width - 8}; j += 8) Vector256.LoadUnsafe(ref from, j).StoreUnsafe(ref to, j);");
            w.Line($"Vector256.LoadUnsafe(ref from, {width - 8}).StoreUnsafe(ref to, {width - 8}); // the last vector, overlapping");
            w.Close();
            w.Line($"else for (int j = 0; j < {width}; j++) Unsafe.Add(ref to, j) = Unsafe.Add(ref from, j);");
        }
        else
        {
            w.Line($"for (int j = 0; j < {width}; j++) Unsafe.Add(ref to, j) = Unsafe.Add(ref from, j);");
        }
        w.Close();
        w.Close();
    }
}
