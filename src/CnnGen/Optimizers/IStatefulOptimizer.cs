using System;
using System.Collections.Generic;

namespace CnnGen.Optimizers;

/// <summary>
/// The state an optimizer carries between steps, as checkpoints save and restore it so training resumes exactly.
/// Every buffer has the length of the network's <c>Parameters</c> and the same layout.
/// </summary>
public interface IStatefulOptimizer
{
    /// <summary>The optimizer's kind, e.g. <c>"SGD"</c>, <c>"Adam"</c>, <c>"AdamW"</c>; a checkpoint refuses to load into another kind.</summary>
    string Kind { get; }

    /// <summary>Steps taken so far (Adam's bias correction depends on it).</summary>
    long StepCount { get; set; }

    /// <summary>Names of the per-parameter buffers, e.g. <c>"momentum_buffer"</c> or <c>"exp_avg"</c>, <c>"exp_avg_sq"</c>.</summary>
    IReadOnlyList<string> BufferNames { get; }

    /// <summary>The buffer of that name, to read or overwrite.</summary>
    Span<float> Buffer(string name);
}
