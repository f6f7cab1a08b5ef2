using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace CnnGen.Training;

/// <summary>Counts of (actual class, predicted class) pairs over a set of samples.</summary>
/// <remarks>Rows are actual classes, columns predicted ones: <c>matrix[3, 5]</c> is how many 3s were taken for 5s.</remarks>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <summary>Creates an empty matrix for <paramref name="classCount"/> classes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is below 1.</exception>
    public ConfusionMatrix(int classCount)
    {
        if (classCount < 1)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "A confusion matrix needs at least one class.");
        if ((long)classCount * classCount > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "Too many classes for a confusion matrix.");
        ClassCount = classCount;
        _counts = new long[classCount * classCount];
    }

    /// <summary>The number of classes (rows and columns).</summary>
    public int ClassCount { get; }

    /// <summary>How many samples of class <paramref name="actual"/> were predicted as <paramref name="predicted"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A class is outside [0, <see cref="ClassCount"/>).</exception>
    public long this[int actual, int predicted]
    {
        get
        {
            CheckClass(actual, nameof(actual));
            CheckClass(predicted, nameof(predicted));
            return _counts[actual * ClassCount + predicted];
        }
    }

    /// <summary>All samples counted.</summary>
    public long Total { get; private set; }

    /// <summary>Samples on the diagonal: predicted as their actual class.</summary>
    public long Correct { get; private set; }

    /// <summary><see cref="Correct"/> / <see cref="Total"/>; NaN when nothing was counted.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;

    /// <summary>Counts one sample.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A class is outside [0, <see cref="ClassCount"/>).</exception>
    public void Add(int actual, int predicted)
    {
        CheckClass(actual, nameof(actual));
        CheckClass(predicted, nameof(predicted));
        _counts[actual * ClassCount + predicted]++;
        Total++;
        if (actual == predicted) Correct++;
    }

    /// <summary>Samples whose actual class is <paramref name="actual"/> (a row's sum).</summary>
    public long ActualCount(int actual)
    {
        CheckClass(actual, nameof(actual));
        long sum = 0;
        for (int p = 0; p < ClassCount; p++) sum += _counts[actual * ClassCount + p];
        return sum;
    }

    /// <summary>Samples predicted as <paramref name="predicted"/> (a column's sum).</summary>
    public long PredictedCount(int predicted)
    {
        CheckClass(predicted, nameof(predicted));
        long sum = 0;
        for (int a = 0; a < ClassCount; a++) sum += _counts[a * ClassCount + predicted];
        return sum;
    }

    /// <summary>Of the samples of class <paramref name="c"/>, the fraction predicted as <paramref name="c"/>; NaN if there are none.</summary>
    public double Recall(int c)
    {
        long actual = ActualCount(c);
        return actual == 0 ? double.NaN : (double)_counts[c * ClassCount + c] / actual;
    }

    /// <summary>Of the samples predicted as <paramref name="c"/>, the fraction that are <paramref name="c"/>; NaN if there are none.</summary>
    public double Precision(int c)
    {
        long predicted = PredictedCount(c);
        return predicted == 0 ? double.NaN : (double)_counts[c * ClassCount + c] / predicted;
    }

    /// <summary>
    /// The matrix as a text table: one row per actual class, one column per predicted class, then each class's recall;
    /// a last row gives each class's precision.
    /// </summary>
    /// <param name="classNames">A short name per class, or null for the class indices.</param>
    /// <exception cref="ArgumentException"><paramref name="classNames"/> does not hold one name per class.</exception>
    public string ToTable(IReadOnlyList<string>? classNames = null)
    {
        if (classNames is not null && classNames.Count != ClassCount)
            throw new ArgumentException($"classNames holds {classNames.Count} names for {ClassCount} classes.", nameof(classNames));
        var culture = CultureInfo.InvariantCulture;
        string Name(int c) => classNames is null ? c.ToString(culture) : classNames[c];

        int nameWidth = "actual\\predicted".Length;
        int cellWidth = 6;
        for (int c = 0; c < ClassCount; c++)
        {
            nameWidth = Math.Max(nameWidth, Name(c).Length);
            cellWidth = Math.Max(cellWidth, Math.Max(Name(c).Length, ActualCount(c).ToString(culture).Length) + 1);
        }

        var text = new StringBuilder();
        text.Append("actual\\predicted".PadRight(nameWidth));
        for (int p = 0; p < ClassCount; p++) text.Append(Name(p).PadLeft(cellWidth));
        text.Append("  recall").AppendLine();
        for (int a = 0; a < ClassCount; a++)
        {
            text.Append(Name(a).PadRight(nameWidth));
            for (int p = 0; p < ClassCount; p++) text.Append(_counts[a * ClassCount + p].ToString(culture).PadLeft(cellWidth));
            text.Append(FormatPercent(Recall(a)).PadLeft(8)).AppendLine();
        }
        text.Append("precision".PadRight(nameWidth));
        for (int p = 0; p < ClassCount; p++) text.Append(FormatPercent(Precision(p)).PadLeft(cellWidth));
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>E.g. <c>10 classes, 9,912 of 10,000 correct (99.1%)</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ClassCount} classes, {Correct:N0} of {Total:N0} correct ({FormatPercent(Accuracy)})");

    private static string FormatPercent(double fraction) =>
        double.IsNaN(fraction) ? "-" : (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private void CheckClass(int c, string name)
    {
        if ((uint)c >= (uint)ClassCount)
            throw new ArgumentOutOfRangeException(name, c, $"{name} must be a class in [0, {ClassCount}).");
    }
}
