using System;
using System.Linq;
using System.Text;

namespace CnnGen.Generator.Emit;

/// <summary>How a GEMM's accumulators start: from zero, from C (accumulate), or from a bias per row or column.</summary>
internal enum GemmInit { Zero, Accumulate, RowBias, ColumnBias }

/// <summary>
/// C[M×N] (=, +=) A[M×K]·B[K×N] with B and C row-major and A read through strides, so the same template serves
/// W·col, Wᵀ·dY and dYᵀ·X. Vectorised over N (the columns), A broadcast: <see cref="Rows"/> × <see cref="Vectors"/>
/// register tiles keep Rows·Vectors accumulators live across the whole reduction.
/// Offsets and M, K may be run-time expressions; N and the strides of B and C are literals, so tails are planned here.
/// </summary>
internal sealed record BroadcastGemm(
    string M, int N, string K,
    string A, string AOffset, string ARowStride, string AColumnStride,
    string B, string BOffset, int LdB,
    string C, string COffset, int LdC,
    GemmInit Init, string? Bias = null, string BiasOffset = "0", string? Activation = null)
{
    /// <summary>The register tile is chosen to cover the FMA latency too (see <see cref="GemmEmitter.ChooseBroadcastTile"/>).</summary>
    public bool CoverLatency { get; init; }

    /// <summary>
    /// For a long reduction into few columns (a weight gradient: K = pixels, N = output channels): where the B panel
    /// would not stay in L2, the reduction is split into blocks (C accumulates, so each block adds its part)
    /// instead of the columns. Needs <see cref="GemmInit.Accumulate"/>.
    /// </summary>
    public bool BlockReduction { get; init; }
}

/// <summary>
/// C[M×N] (=, +=) A[M×K]·B[N×K]ᵀ: dot products of rows, vectorised over K (a literal), in tiles of
/// <see cref="GemmEmitter.DotRows"/> × <see cref="GemmEmitter.DotColumns"/> accumulators reduced once at the end.
/// </summary>
internal sealed record DotGemm(
    string M, string N, int K,
    string A, string AOffset, int LdA,
    string B, string BOffset, int LdB,
    string C, string COffset, string LdC,
    GemmInit Init, string? Bias = null, string BiasOffset = "0", string? Activation = null);

/// <summary>Which rows of a dot-product GEMM with a run-time M the emitted code covers.</summary>
internal enum DotRowsPart
{
    /// <summary>All of them: tiles of several rows, then single rows.</summary>
    All,
    /// <summary>The tiles of several rows from row 0 on; the code returns the rows done.</summary>
    Tiles,
    /// <summary>Single rows from the variable "first" on.</summary>
    SingleRows,
}

/// <summary>Emits GEMMs as shape-specialized loops, one copy per instruction set behind IsHardwareAccelerated checks.</summary>
internal static class GemmEmitter
{
    /// <summary>
    /// Chooses the register tile (rows × vectors) of a broadcast GEMM from its shape by a small cost model: each
    /// k step of a tile issues rows·vectors FMAs and rows + vectors loads (broadcasts included); a core retires
    /// 2 of each per cycle, so a tile costs max(rows·vectors, rows + vectors) / 2 cycles per k. Remainder rows and
    /// vectors get exact smaller tiles, so the sum over all tiles is what the shape really costs. Accumulators,
    /// B vectors and a broadcast must fit the register file (16 with AVX2, 32 with AVX-512) with one spare.
    /// </summary>
    /// <remarks>
    /// With <paramref name="coverLatency"/>, a tile also costs at least 4 cycles per k (the FMA latency: each
    /// accumulator's chain advances once per 4 cycles, two FMA ports need 8 chains in flight), and among equal costs
    /// the tile with more accumulators wins, since it reloads B and A fewer times.
    /// <para>
    /// M unknown here (<paramref name="m"/> null: the batch's rows) is costed over batches of 16, 32 and 64 (the
    /// trainer's shards, inference chunks), whose rows left over after the full tiles run one at a time, as emitted.
    /// Tiles of 6 rows, which an assumed M of 96 chose before, left 4 single rows in each of them, whose 4 to 8
    /// chains could not cover the FMA latency; tiles of 4 or 8 rows leave none.
    /// </para>
    /// </remarks>
    internal static (int Rows, int Vectors) ChooseBroadcastTile(int? m, int n, int width, bool coverLatency = false)
    {
        int registers = width == 16 ? 32 : 16;
        int vectors = n / width;
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        for (int rows = 1; rows <= 8; rows++)
        {
            for (int nv = 1; nv <= 4; nv++)
            {
                if (rows * nv + nv + 2 > registers) continue;
                double cost = 0;
                foreach (int rowCount in m is int known ? new[] { known } : TypicalBatches)
                {
                    int left = rowCount % rows;
                    var rowTileSets = m is null ? new[] { (rows, rowCount / rows), (1, left) } : new[] { (rows, rowCount / rows), (left, 1) };
                    foreach (var (tileRows, rowTiles) in rowTileSets)
                    {
                        if (tileRows == 0 || rowTiles == 0) continue;
                        foreach (var (tileVectors, columnTiles) in new[] { (nv, vectors / nv), (vectors % nv, 1) })
                        {
                            if (tileVectors == 0) continue;
                            double tileCost = Math.Max(tileRows * tileVectors, tileRows + tileVectors);
                            if (coverLatency) tileCost = Math.Max(tileCost, 8);
                            cost += rowTiles * columnTiles * tileCost / 2.0;
                        }
                    }
                }
                if (cost < bestCost - 1e-9 || (coverLatency && cost < bestCost + 1e-9 && rows * nv > best.Item1 * best.Item2))
                {
                    bestCost = Math.Min(cost, bestCost);
                    best = (rows, nv);
                }
            }
        }
        return best;
    }

    /// <summary>Batch sizes a tile for a run-time M is costed over (see <see cref="ChooseBroadcastTile"/>).</summary>
    private static readonly int[] TypicalBatches = { 16, 32, 64 };

    /// <summary>Dot-product tiles: 4×4 accumulators with AVX-512's 32 registers, 2×4 with AVX2's 16.</summary>
    private static int DotRows(int width) => width == 16 ? 4 : 2;

    private const int DotColumns = 4;

    private static readonly (string Vector, int Width)[] Isas = { ("Vector512", 16), ("Vector256", 8) };

    public static void Emit(SourceWriter w, BroadcastGemm g, string comment)
    {
        w.Line($"// {comment}");
        w.Open("");
        bool first = true;
        foreach (var (vector, width) in Isas)
        {
            if (g.N < width) continue;
            w.Line($"{(first ? "if" : "else if")} ({vector}.IsHardwareAccelerated)");
            w.Line("{");
            EmitBroadcastVector(w, g, vector, width);
            w.Line("}");
            first = false;
        }
        if (!first) w.Line("else").Line("{");
        EmitBroadcastScalar(w, g, "0", g.N.ToString());
        if (!first) w.Line("}");
        w.Close();
    }

    /// <summary>
    /// A dot-product GEMM; with <paramref name="rows"/> only its tiles of several rows (the code then returns the rows
    /// done) or only its single rows from row "first" on, for methods of their own (see DenseEmitter.EmitForward).
    /// </summary>
    public static void Emit(SourceWriter w, DotGemm g, string comment, DotRowsPart rows = DotRowsPart.All)
    {
        w.Line($"// {comment}");
        w.Open("");
        bool first = true;
        foreach (var (vector, width) in Isas)
        {
            if (g.K < width) continue;
            w.Line($"{(first ? "if" : "else if")} ({vector}.IsHardwareAccelerated)");
            w.Line("{");
            EmitDot(w, g, vector, width, rows);
            w.Line("}");
            first = false;
        }
        if (!first) w.Line("else").Line("{");
        EmitDot(w, g, null, 1, rows);
        if (!first) w.Line("}");
        w.Close();
    }

    private static string AIndex(BroadcastGemm g, string row, string k) => $"{g.AOffset} + ({row}) * {g.ARowStride} + {k} * {g.AColumnStride}";

    private static void EmitBroadcastVector(SourceWriter w, BroadcastGemm g, string vector, int width)
    {
        int? m = int.TryParse(g.M, out int literal) ? literal : null;
        var (rows, vectors) = ChooseBroadcastTile(m, g.N, width, g.CoverLatency);
        int? reductionBlock = null;
        if (g.BlockReduction && g.Init == GemmInit.Accumulate && int.TryParse(g.K, out int reduction) && (long)reduction * g.N * 4 > L2PanelBytes)
        {
            // The reduction in blocks whose B panel (block × N) stays in L2 while every row tile runs over it.
            int kb = Math.Max(16, (int)(L2PanelBytes / (4L * g.N)) / 16 * 16);
            if (kb < reduction)
            {
                reductionBlock = kb;
                w.Line($"// the reduction of {reduction} in blocks of {kb}, so a {kb}×{g.N} panel of B stays in L2; C accumulates each block");
                w.Open($"for (int k0 = 0; k0 < {reduction}; k0 += {kb})");
                w.Line($"int kCount = Math.Min({kb}, {reduction} - k0);");
                g = g with { K = "kCount", AOffset = $"{g.AOffset} + k0 * {g.AColumnStride}", BOffset = $"{g.BOffset} + k0 * {g.LdB}" };
            }
        }
        string type = $"{vector}<float>";
        int fullTile = g.N - g.N % (vectors * width);
        int fullVector = g.N - g.N % width;
        // A tail narrower than a vector: where C is only stored, recompute the last whole vector of columns
        // (overlapping the previous tile); where C accumulates (an overlap would add twice), finish with narrower
        // vectors, then scalars (see NarrowTail).
        bool overlapTail = g.N > fullVector && g.Init != GemmInit.Accumulate;
        // Cache blocking: when the whole B panel (K × N) would not stay in L2, the full-tile columns go in blocks
        // whose panel does (about 384 KiB), and every row tile runs over one block before the next, so each block
        // is read from memory once instead of once per row tile.
        int step = vectors * width;
        int? kLiteral = int.TryParse(g.K, out int kValue) ? kValue : null;
        int block = fullTile;
        if (kLiteral is int k && (long)k * g.N * 4 > L2PanelBytes && fullTile > step)
            block = Math.Max(step, (int)(L2PanelBytes / (4L * k) / step * step));
        bool blocked = block < fullTile;
        w.Line($"// register tile {rows} rows × {vectors}×{width} columns (cost model: see ChooseBroadcastTile)" +
               (blocked ? $"; columns in blocks of {block} so a {g.K}×{block} panel of B stays in L2" : ""));
        var rowTiles = new System.Collections.Generic.List<(int Rows, string Loop)>();
        if (m is int rowsTotal)
        {
            if (rowsTotal / rows > 0) rowTiles.Add((rows, $"for (; i + {rows} <= {rowsTotal}; i += {rows})"));
            if (rowsTotal % rows > 0) rowTiles.Add((rowsTotal % rows, $"for (; i < {rowsTotal}; i += {rowsTotal % rows})"));
        }
        else
        {
            rowTiles.Add((rows, $"for (; i + {rows} <= {g.M}; i += {rows})"));
            if (rows > 1) rowTiles.Add((1, $"for (; i < {g.M}; i++)"));
        }
        if (fullTile > 0)
        {
            if (blocked) w.Open($"for (int j0 = 0; j0 < {fullTile}; j0 += {block})");
            string jStart = blocked ? "j0" : "0", jEnd = blocked ? $"Math.Min(j0 + {block}, {fullTile})" : fullTile.ToString();
            w.Open("");
            w.Line("int i = 0;");
            foreach (var (mr, loop) in rowTiles)
            {
                w.Open(loop);
                w.Open($"for (int j = {jStart}; j < {jEnd}; j += {step})");
                EmitBroadcastTile(w, g, vector, type, width, mr, vectors);
                w.Close();
                w.Close();
            }
            w.Close();
            if (blocked) w.Close();
        }
        if (fullVector > fullTile || g.N > fullVector)
        {
            w.Open("");
            w.Line("int i = 0;");
            foreach (var (mr, loop) in rowTiles)
            {
                w.Open(loop);
                if (fullVector > fullTile)
                {
                    w.Open("");
                    w.Line($"int j = {fullTile};");
                    EmitBroadcastTile(w, g, vector, type, width, mr, (fullVector - fullTile) / width);
                    w.Close();
                }
                if (overlapTail)
                {
                    w.Open("");
                    w.Line($"int j = {g.N - width}; // the last {g.N - fullVector} column(s), overlapping");
                    EmitBroadcastTile(w, g, vector, type, width, mr, 1);
                    w.Close();
                }
                else if (g.N > fullVector)
                {
                    int j = fullVector;
                    foreach (var (narrow, narrowWidth) in NarrowTail(width, g.N - fullVector))
                    {
                        w.Open("");
                        w.Line($"int j = {j}; // {narrowWidth} more column(s) as one {narrow}");
                        EmitBroadcastTile(w, g, narrow, $"{narrow}<float>", narrowWidth, mr, 1);
                        w.Close();
                        j += narrowWidth;
                    }
                    if (j < g.N)
                    {
                        w.Line($"// the last {g.N - j} column(s), scalar");
                        EmitBroadcastScalarRows(w, g, mr, j.ToString(), g.N.ToString());
                    }
                }
                w.Close();
            }
            w.Close();
        }
        if (reductionBlock is not null) w.Close();
    }

    /// <summary>
    /// The narrower vectors that cover an accumulating tail of <paramref name="columns"/> (fewer than
    /// <paramref name="width"/>): a Vector256 for 8 of them under Vector512, a Vector128 for 4, each at most once;
    /// what is left (under 4) is scalar. A narrower vector is accelerated wherever a wider one is. Each element's
    /// sum is the same chain of FMAs as in the full vectors, so the tail rounds as they do.
    /// </summary>
    private static System.Collections.Generic.IEnumerable<(string Vector, int Width)> NarrowTail(int width, int columns)
    {
        foreach (var (vector, narrowWidth) in new[] { ("Vector256", 8), ("Vector128", 4) })
        {
            if (narrowWidth >= width || columns < narrowWidth) continue;
            yield return (vector, narrowWidth);
            columns -= narrowWidth;
        }
    }

    /// <summary>The share of L2 a B panel may take (Zen 4 and most current cores have 1–2 MiB of L2 per core).</summary>
    private const long L2PanelBytes = 384 * 1024;

    private static void EmitBroadcastTile(SourceWriter w, BroadcastGemm g, string vector, string type, int width, int mr, int nv)
    {
        // Row pointers into A and the column pointer into B are hoisted out of the reduction, whose index is a
        // native integer, so the inner loop is loads, broadcasts and FMAs with constant displacements.
        w.Line($"ref float bColumn = ref Unsafe.Add(ref {g.B}, {g.BOffset} + j);");
        for (int r = 0; r < mr; r++)
            w.Line($"ref float aRow{r} = ref Unsafe.Add(ref {g.A}, {g.AOffset} + (i + {r}) * {g.ARowStride});");
        for (int r = 0; r < mr; r++)
        {
            for (int v = 0; v < nv; v++)
            {
                string init = g.Init switch
                {
                    GemmInit.Accumulate => $"{vector}.LoadUnsafe(ref {g.C}, (nuint)({g.COffset} + (i + {r}) * {g.LdC} + j + {v * width}))",
                    GemmInit.RowBias => $"{vector}.Create(Unsafe.Add(ref {g.Bias}, {g.BiasOffset} + i + {r}))",
                    GemmInit.ColumnBias => $"{vector}.LoadUnsafe(ref {g.Bias}, (nuint)({g.BiasOffset} + j + {v * width}))",
                    _ => $"{type}.Zero",
                };
                w.Line($"{type} c{r}{v} = {init};");
            }
        }
        bool unitStride = g.AColumnStride == "1";
        w.Open($"for (nuint k = 0; k < (nuint)({g.K}); k++)");
        w.Line($"nuint bk = k * {g.LdB};");
        if (!unitStride) w.Line($"nint ak = (nint)k * {g.AColumnStride};");
        for (int v = 0; v < nv; v++)
            w.Line($"{type} b{v} = {vector}.LoadUnsafe(ref bColumn, bk + {v * width});");
        for (int r = 0; r < mr; r++)
        {
            w.Line($"{type} a{r} = {vector}.Create(Unsafe.Add(ref aRow{r}, {(unitStride ? "(nint)k" : "ak")}));");
            for (int v = 0; v < nv; v++)
                w.Line($"c{r}{v} = {vector}.FusedMultiplyAdd(a{r}, b{v}, c{r}{v});");
        }
        w.Close();
        for (int r = 0; r < mr; r++)
            for (int v = 0; v < nv; v++)
                w.Line($"{Epilogue(g.Activation, vector, $"c{r}{v}")}.StoreUnsafe(ref {g.C}, (nuint)({g.COffset} + (i + {r}) * {g.LdC} + j + {v * width}));");
    }

    private static string Epilogue(string? activation, string? vector, string value) => activation switch
    {
        null => value,
        "ReLU" when vector is null => $"MathF.Max({value}, 0f)",
        "ReLU" => $"global::CnnGen.Internal.VectorMath.ReLU({value})",
        _ => throw new InvalidOperationException("unknown epilogue " + activation),
    };

    private static void EmitBroadcastScalar(SourceWriter w, BroadcastGemm g, string jStart, string jEnd)
    {
        w.Open($"for (int i = 0; i < {g.M}; i++)");
        EmitBroadcastScalarRows(w, g, 1, jStart, jEnd);
        w.Close();
    }

    private static void EmitBroadcastScalarRows(SourceWriter w, BroadcastGemm g, int mr, string jStart, string jEnd)
    {
        w.Open($"for (int j = {jStart}; j < {jEnd}; j++)");
        for (int r = 0; r < mr; r++)
        {
            string init = g.Init switch
            {
                GemmInit.Accumulate => $"Unsafe.Add(ref {g.C}, {g.COffset} + (i + {r}) * {g.LdC} + j)",
                GemmInit.RowBias => $"Unsafe.Add(ref {g.Bias}, {g.BiasOffset} + i + {r})",
                GemmInit.ColumnBias => $"Unsafe.Add(ref {g.Bias}, {g.BiasOffset} + j)",
                _ => "0f",
            };
            w.Line($"float s{r} = {init};");
        }
        w.Open($"for (int k = 0; k < {g.K}; k++)");
        w.Line($"float b = Unsafe.Add(ref {g.B}, {g.BOffset} + k * {g.LdB} + j);");
        for (int r = 0; r < mr; r++)
            w.Line($"s{r} += Unsafe.Add(ref {g.A}, {AIndex(g, "i + " + r, "k")}) * b;");
        w.Close();
        for (int r = 0; r < mr; r++)
            w.Line($"Unsafe.Add(ref {g.C}, {g.COffset} + (i + {r}) * {g.LdC} + j) = {Epilogue(g.Activation, null, "s" + r)};");
        w.Close();
    }

    /// <summary>Dot-product tiles; <paramref name="vector"/> null emits the scalar path.</summary>
    /// <remarks>
    /// A tile's four columns are the rows j, j + Q, j + 2Q and j + 3Q of B (Q = N / 4, N a literal), not four
    /// neighbouring rows: consecutive rows of B are contiguous, so each of the tile's four loads walks one long
    /// stream of N / 4 rows, which the hardware prefetchers learn once, instead of a new short stream every row
    /// (LeNet-5's Dense(120) at batch 1 streams 192 KB of weights from L2 with one row of X: 1.71 µs with
    /// neighbouring rows, 1.20 µs with far ones, 1.13 µs for a plain sequential read, Zen 5). Every output element is
    /// the same chain of FMAs and the same reduction either way, so the results are bit for bit the same.
    /// </remarks>
    private static void EmitDot(SourceWriter w, DotGemm g, string? vector, int width, DotRowsPart part = DotRowsPart.All)
    {
        int rows = vector is null ? 1 : DotRows(width), columns = vector is null ? 1 : DotColumns;
        int stride = columns > 1 && int.TryParse(g.N, out int n) ? Math.Max(1, n / columns) : 1;
        w.Line(part == DotRowsPart.SingleRows ? "int i = first;" : "int i = 0;");
        foreach (int mr in rows == 1 ? new[] { 1 } : new[] { rows, 1 })
        {
            if (part == DotRowsPart.Tiles && mr == 1 || part == DotRowsPart.SingleRows && mr > 1) continue;
            w.Open(mr == 1 ? $"for (; i < {g.M}; i++)" : $"for (; i + {mr} <= {g.M}; i += {mr})");
            w.Line("int j = 0;");
            foreach (int nr in columns == 1 ? new[] { 1 } : new[] { columns, 1 })
            {
                if (nr > 1 && stride > 1)
                {
                    w.Line($"// columns j, j + {stride}, j + {2 * stride}, j + {3 * stride}: four long streams of B's rows (see GemmEmitter.EmitDot)");
                    w.Open($"for (; j < {stride}; j++)");
                    EmitDotTile(w, g, vector, width, mr, nr, stride);
                    w.Close();
                    w.Line($"j = {stride * nr};");
                    continue;
                }
                w.Open(nr == 1 ? $"for (; j < {g.N}; j++)" : $"for (; j + {nr} <= {g.N}; j += {nr})");
                EmitDotTile(w, g, vector, width, mr, nr);
                w.Close();
            }
            w.Close();
        }
        if (part == DotRowsPart.Tiles) w.Line("return i;");
    }

    private static void EmitDotTile(SourceWriter w, DotGemm g, string? vector, int width, int mr, int nr, int stride = 1)
    {
        int kFull = vector is null ? 0 : g.K - g.K % width;
        for (int r = 0; r < mr; r++)
            w.Line($"ref float aRow{r} = ref Unsafe.Add(ref {g.A}, {g.AOffset} + (i + {r}) * {g.LdA});");
        for (int c = 0; c < nr; c++)
            w.Line($"ref float bRow{c} = ref Unsafe.Add(ref {g.B}, {g.BOffset} + (j + {c * stride}) * {g.LdB});");
        bool reduceFour = vector is not null && nr == 4;
        if (vector is not null)
        {
            string type = $"{vector}<float>";
            for (int r = 0; r < mr; r++)
                for (int c = 0; c < nr; c++)
                    w.Line($"{type} acc{r}{c} = {type}.Zero;");
            if (kFull > 0)
            {
                w.Open($"for (nuint k = 0; k < {kFull}; k += {width})");
                for (int r = 0; r < mr; r++)
                    w.Line($"{type} a{r} = {vector}.LoadUnsafe(ref aRow{r}, k);");
                for (int c = 0; c < nr; c++)
                {
                    w.Line($"{type} b{c} = {vector}.LoadUnsafe(ref bRow{c}, k);");
                    for (int r = 0; r < mr; r++)
                        w.Line($"acc{r}{c} = {vector}.FusedMultiplyAdd(a{r}, b{c}, acc{r}{c});");
                }
                w.Close();
            }
            int tail = g.K - kFull;
            if (tail > 0 && kFull > 0)
            {
                w.Open("");
                w.Line($"// the last {tail} of {g.K}: one vector ending at {g.K}, its first {width - tail} lanes (already counted) masked off");
                w.Line($"{type} tailMask = {vector}.GreaterThanOrEqual({vector}<int>.Indices, {vector}.Create({width - tail})).AsSingle();");
                for (int r = 0; r < mr; r++)
                    w.Line($"{type} a{r} = {vector}.LoadUnsafe(ref aRow{r}, {g.K - width}) & tailMask;");
                for (int c = 0; c < nr; c++)
                {
                    w.Line($"{type} b{c} = {vector}.LoadUnsafe(ref bRow{c}, {g.K - width});");
                    for (int r = 0; r < mr; r++)
                        w.Line($"acc{r}{c} = {vector}.FusedMultiplyAdd(a{r}, b{c}, acc{r}{c});");
                }
                w.Close();
                kFull = g.K;
            }
            for (int r = 0; r < mr; r++)
            {
                if (reduceFour)
                    w.Line($"Vector128<float> sums{r} = GeneratedSupport.SumEach(acc{r}0, acc{r}1, acc{r}2, acc{r}3);");
                else
                    for (int c = 0; c < nr; c++)
                        w.Line($"float s{r}{c} = {vector}.Sum(acc{r}{c});");
            }
            if (reduceFour && g.K > kFull)
            {
                // The reduction's tail, scalar, added to the four sums as one vector.
                for (int r = 0; r < mr; r++)
                {
                    w.Line($"float t{r}0 = 0f, t{r}1 = 0f, t{r}2 = 0f, t{r}3 = 0f;");
                }
                w.Open($"for (int k = {kFull}; k < {g.K}; k++)");
                for (int r = 0; r < mr; r++) w.Line($"float a{r} = Unsafe.Add(ref aRow{r}, k);");
                for (int c = 0; c < nr; c++)
                {
                    w.Line($"float b{c} = Unsafe.Add(ref bRow{c}, k);");
                    for (int r = 0; r < mr; r++) w.Line($"t{r}{c} += a{r} * b{c};");
                }
                w.Close();
                for (int r = 0; r < mr; r++)
                    w.Line($"sums{r} += Vector128.Create(t{r}0, t{r}1, t{r}2, t{r}3);");
            }
            if (reduceFour)
            {
                // The four sums, their bias (or C) and their stores as one Vector128 where the columns are neighbours;
                // where they are apart (stride > 1), the same lane-wise arithmetic, gathered and stored lane by lane.
                string At(int c) => c == 0 ? "" : $" + {c * stride}";
                string Four(string array, string index) => stride == 1
                    ? $"Vector128.LoadUnsafe(ref Unsafe.Add(ref {array}, {index}))"
                    : $"Vector128.Create({string.Join(", ", Enumerable.Range(0, 4).Select(c => $"Unsafe.Add(ref {array}, {index}{At(c)})"))})";
                for (int r = 0; r < mr; r++)
                {
                    string target = $"{g.COffset} + (i + {r}) * {g.LdC} + j";
                    string value = g.Init switch
                    {
                        GemmInit.Accumulate => $"{Four(g.C, target)} + sums{r}",
                        GemmInit.ColumnBias => $"sums{r} + {Four(g.Bias!, $"{g.BiasOffset} + j")}",
                        GemmInit.RowBias => $"sums{r} + Vector128.Create(Unsafe.Add(ref {g.Bias}, {g.BiasOffset} + i + {r}))",
                        _ => $"sums{r}",
                    };
                    string result = Epilogue(g.Activation, "Vector128", "(" + value + ")");
                    if (stride == 1)
                    {
                        w.Line($"{result}.StoreUnsafe(ref Unsafe.Add(ref {g.C}, {target}));");
                        continue;
                    }
                    w.Line($"Vector128<float> out{r} = {result};");
                    for (int c = 0; c < 4; c++) w.Line($"Unsafe.Add(ref {g.C}, {target}{At(c)}) = out{r}.GetElement({c});");
                }
                return;
            }
        }
        else
        {
            w.Line("float s00 = 0f;");
        }
        if (g.K > kFull)
        {
            w.Open($"for (int k = {kFull}; k < {g.K}; k++)");
            for (int r = 0; r < mr; r++)
                w.Line($"float a{r} = Unsafe.Add(ref aRow{r}, k);");
            for (int c = 0; c < nr; c++)
            {
                w.Line($"float b{c} = Unsafe.Add(ref bRow{c}, k);");
                for (int r = 0; r < mr; r++)
                    w.Line($"s{r}{c} += a{r} * b{c};");
            }
            w.Close();
        }
        for (int r = 0; r < mr; r++)
        {
            for (int c = 0; c < nr; c++)
            {
                string target = $"Unsafe.Add(ref {g.C}, {g.COffset} + (i + {r}) * {g.LdC} + j + {c})";
                string value = g.Init switch
                {
                    GemmInit.ColumnBias => $"s{r}{c} + Unsafe.Add(ref {g.Bias}, {g.BiasOffset} + j + {c})",
                    GemmInit.RowBias => $"s{r}{c} + Unsafe.Add(ref {g.Bias}, {g.BiasOffset} + i + {r})",
                    _ => $"s{r}{c}",
                };
                w.Line(g.Init == GemmInit.Accumulate ? $"{target} += {value};" : $"{target} = {Epilogue(g.Activation, null, value)};");
            }
        }
    }
}
