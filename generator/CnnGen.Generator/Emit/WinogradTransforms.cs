using System.Collections.Generic;

namespace CnnGen.Generator.Emit;

/// <summary>
/// The one-dimensional transforms of Winograd F(m, 3) (Lavin &amp; Gray 2016) that the 2D ones apply to rows, then to
/// columns: Bᵀ (α inputs to α, the input window), Aᵀ (α products to the m outputs) and G (3 taps to α), α = m + 2.
/// Each is written as the vector expressions its kernels compute, with the temporaries they share, so that the emitter
/// (<see cref="WinogradConvolutionEmitter"/>) generates the transforms of every tile size from one loop.
/// <para>
/// F(2×2, 3×3) interpolates at 0, ±1 and ∞: its transforms are additions, 16 multiplications per tile where the direct
/// convolution needs 36 (2.25× fewer). F(4×4, 3×3) adds ±2: 36 per tile where the direct needs 144 (4× fewer), at the
/// price of larger coefficients (up to 8 in Aᵀ, 1/24 in G), which round more: its error is measured in
/// WinogradConvolutionTests, and its transforms cost about as much per output as F(2×2, 3×3)'s (more operations per
/// tile, fewer tiles).
/// </para>
/// </summary>
/// <param name="Size">m: the tile's outputs per row and column.</param>
/// <param name="InputCost">Modelled cost per tile and vector of input channels: Bᵀ·d·B's operations and stores, in vector FMAs.</param>
/// <param name="OutputCost">Per tile and vector of output channels: Aᵀ·M·A's operations, bias, ReLU and stores.</param>
/// <param name="WeightCost">Per input channel and vector of output channels: G·g·Gᵀ's loads, operations and stores.</param>
internal sealed record WinogradTransforms(int Size, double InputCost, double OutputCost, double WeightCost)
{
    /// <summary>
    /// F(2×2, 3×3). Costs: Bᵀ·d·B 32 additions and 16 stores; Aᵀ·M·A 24 additions, bias, ReLU and 4 stores; G·g·Gᵀ 9
    /// loads, 22 operations, 16 stores and the transpose; the weight gradient's A·dY·Aᵀ 4 loads, 18 operations and
    /// 16 stores.
    /// </summary>
    public static readonly WinogradTransforms F2 = new(2, 48, 36, 60)
    {
        InputMatrix = "Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]",
        OutputMatrix = "Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]",
        WeightMatrix = "G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]",
        OutputGradientMatrix = "A = [[1, 0], [1, 1], [1, −1], [0, −1]]",
        WeightGradientMatrix = "Gᵀ = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]]",
        OutputGradientCost = 38,
        Constants = new (string, float)[0],
    };

    /// <summary>
    /// F(4×4, 3×3). Costs counted the same way: Bᵀ·d·B 12 operations per row and column (144) and 36 stores; Aᵀ·M·A 10
    /// per column of 6 and row of 4 (100), bias and ReLU on 16 outputs and 16 stores; G·g·Gᵀ 11 per column of 3 and
    /// row of 6 (99), 36 stores and the transpose; A·dY·Aᵀ 16 loads, 8 operations per column of 4 and row of 6 (80)
    /// and 36 stores.
    /// </summary>
    public static readonly WinogradTransforms F4 = new(4, 180, 148, 150)
    {
        InputMatrix = "Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0], [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]]",
        OutputMatrix = "Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]",
        WeightMatrix = "G = [[¼, 0, 0], [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙], [1/24, −1/12, ⅙], [0, 0, 1]]",
        OutputGradientMatrix = "A = [[1, 0, 0, 0], [1, 1, 1, 1], [1, −1, 1, −1], [1, 2, 4, 8], [1, −2, 4, −8], [0, 0, 0, 1]]",
        WeightGradientMatrix = "Gᵀ = [[¼, −⅙, −⅙, 1/24, 1/24, 0], [0, −⅙, ⅙, 1/12, −1/12, 0], [0, −⅙, −⅙, ⅙, ⅙, 1]]",
        OutputGradientCost = 132,
        Constants = new[] { ("two", 2f), ("minusTwo", -2f), ("four", 4f), ("minusFour", -4f), ("minusFive", -5f), ("eight", 8f) },
    };

    /// <summary>The sizes the generator weighs for a 3×3 stride-1 layer, the cheaper transforms first.</summary>
    public static readonly IReadOnlyList<WinogradTransforms> All = new[] { F2, F4 };

    /// <summary>α: the input window's rows and columns, m + 2.</summary>
    public int Alpha => Size + 2;

    /// <summary>α²: the element-wise products (GEMMs) per tile.</summary>
    public int Points => Alpha * Alpha;

    /// <summary>How comments and reasons name the algorithm, e.g. "Winograd F(2×2, 3×3)".</summary>
    public string Name => $"Winograd F({Size}×{Size}, 3×3)";

    /// <summary>Bᵀ as the comments show it.</summary>
    public string InputMatrix { get; private init; } = "";

    /// <summary>Aᵀ as the comments show it.</summary>
    public string OutputMatrix { get; private init; } = "";

    /// <summary>G as the comments show it.</summary>
    public string WeightMatrix { get; private init; } = "";

    /// <summary>A (Aᵀ transposed), which the weight gradient applies to dY's tiles, as the comments show it.</summary>
    public string OutputGradientMatrix { get; private init; } = "";

    /// <summary>Gᵀ, which takes the weight gradient from the transformed domain back to the 3×3 kernel, as the comments show it.</summary>
    public string WeightGradientMatrix { get; private init; } = "";

    /// <summary>Modelled cost per tile and vector of output channels of the weight gradient's A·dY·Aᵀ: loads, operations and stores.</summary>
    public double OutputGradientCost { get; private init; }

    /// <summary>
    /// The vector constants the transforms' fused multiply-adds use (name, value), declared once per kernel method:
    /// the JIT keeps them in registers or folds them into the instruction as a broadcast operand.
    /// </summary>
    public IReadOnlyList<(string Name, float Value)> Constants { get; private init; } = new (string, float)[0];

    /// <summary>
    /// Bᵀ·x of the α values <paramref name="x"/>: the temporaries it needs go into <paramref name="temporaries"/> as
    /// "name = expression", named after <paramref name="prefix"/>; returns the α outputs' expressions.
    /// </summary>
    public string[] Input(string[] x, string prefix, List<string> temporaries, string vector)
    {
        if (Size == 2) return new[] { $"{x[0]} - {x[2]}", $"{x[1]} + {x[2]}", $"{x[2]} - {x[1]}", $"{x[1]} - {x[3]}" };
        string p = $"{prefix}p", q = $"{prefix}q", s = $"{prefix}s", e = $"{prefix}e";
        temporaries.Add($"{p} = {Fma(vector, x[2], "minusFour", x[4])}"); // x4 − 4·x2
        temporaries.Add($"{q} = {Fma(vector, x[1], "minusFour", x[3])}"); // x3 − 4·x1
        temporaries.Add($"{s} = {x[4]} - {x[2]}");
        temporaries.Add($"{e} = {x[3]} - {x[1]}");
        return new[]
        {
            Fma(vector, x[0], "four", Fma(vector, x[2], "minusFive", x[4])),
            $"{p} + {q}",
            $"{p} - {q}",
            Fma(vector, e, "two", s),
            Fma(vector, e, "minusTwo", s),
            Fma(vector, x[1], "four", Fma(vector, x[3], "minusFive", x[5])),
        };
    }

    /// <summary>Aᵀ·x of the α values <paramref name="x"/>: the m outputs' expressions, as <see cref="Input"/>.</summary>
    public string[] Output(string[] x, string prefix, List<string> temporaries, string vector)
    {
        if (Size == 2) return new[] { $"{x[0]} + {x[1]} + {x[2]}", $"{x[1]} - {x[2]} - {x[3]}" };
        string p = $"{prefix}p", q = $"{prefix}q", r = $"{prefix}r", u = $"{prefix}u";
        temporaries.Add($"{p} = {x[1]} + {x[2]}");
        temporaries.Add($"{q} = {x[1]} - {x[2]}");
        temporaries.Add($"{r} = {x[3]} + {x[4]}");
        temporaries.Add($"{u} = {x[3]} - {x[4]}");
        return new[]
        {
            $"{x[0]} + {p} + {r}",
            Fma(vector, u, "two", q),
            Fma(vector, r, "four", p),
            $"{Fma(vector, u, "eight", q)} + {x[5]}",
        };
    }

    /// <summary>G·x of the 3 taps <paramref name="x"/>: the α outputs' expressions, as <see cref="Input"/>.</summary>
    public string[] Weight(string[] x, string prefix, List<string> temporaries, string vector)
    {
        string s = $"{prefix}s";
        temporaries.Add($"{s} = {x[0]} + {x[2]}");
        if (Size == 2) return new[] { x[0], $"({s} + {x[1]}) * 0.5f", $"({s} - {x[1]}) * 0.5f", x[2] };
        string t = $"{prefix}t";
        temporaries.Add($"{t} = {Fma(vector, x[2], "four", x[0])}"); // x0 + 4·x2
        return new[]
        {
            $"{x[0]} * 0.25f",
            $"({s} + {x[1]}) * (-1f / 6)",
            $"({s} - {x[1]}) * (-1f / 6)",
            $"{Fma(vector, x[1], "two", t)} * (1f / 24)",
            $"{Fma(vector, x[1], "minusTwo", t)} * (1f / 24)",
            x[2],
        };
    }

    /// <summary>A·x of the m values <paramref name="x"/> (a tile's column or row of dY): the α outputs' expressions, as <see cref="Input"/>.</summary>
    public string[] OutputGradient(string[] x, string prefix, List<string> temporaries, string vector)
    {
        if (Size == 2) return new[] { x[0], $"{x[0]} + {x[1]}", $"{x[0]} - {x[1]}", $"-{x[1]}" };
        string e = $"{prefix}e", o = $"{prefix}o", e4 = $"{prefix}f", o4 = $"{prefix}p";
        temporaries.Add($"{e} = {x[0]} + {x[2]}");
        temporaries.Add($"{o} = {x[1]} + {x[3]}");
        temporaries.Add($"{e4} = {Fma(vector, x[2], "four", x[0])}"); // x0 + 4·x2
        temporaries.Add($"{o4} = {Fma(vector, x[3], "four", x[1])}"); // x1 + 4·x3
        return new[]
        {
            x[0],
            $"{e} + {o}",
            $"{e} - {o}",
            Fma(vector, o4, "two", e4),
            Fma(vector, o4, "minusTwo", e4),
            x[3],
        };
    }

    /// <summary>Gᵀ·x of the α values <paramref name="x"/> (a column or row of the summed products): the 3 taps' expressions, as <see cref="Input"/>.</summary>
    public string[] WeightGradient(string[] x, string prefix, List<string> temporaries, string vector)
    {
        string s = $"{prefix}s";
        temporaries.Add($"{s} = {x[1]} + {x[2]}");
        if (Size == 2) return new[] { $"{x[0]} + {s} * 0.5f", $"({x[1]} - {x[2]}) * 0.5f", $"{s} * 0.5f + {x[3]}" };
        string p = $"{prefix}p";
        temporaries.Add($"{p} = {x[3]} + {x[4]}");
        return new[]
        {
            $"{x[0]} * 0.25f + ({p} * 0.25f - {s}) * (1f / 6)",
            $"({x[2]} - {x[1]}) * (1f / 6) + ({x[3]} - {x[4]}) * (1f / 12)",
            $"({p} - {s}) * (1f / 6) + {x[5]}",
        };
    }

    private static string Fma(string vector, string a, string b, string c) => $"{vector}.FusedMultiplyAdd({a}, {b}, {c})";
}
