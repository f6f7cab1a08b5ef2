using System;
using System.Collections.Generic;
using System.IO;
using System.Numerics.Tensors;

namespace CnnGen.Data;

/// <summary>
/// Loads MNIST (or any dataset in its file layout, such as Fashion-MNIST) from the four IDX files of
/// <see href="http://yann.lecun.com/exdb/mnist/"/>, gzip'd or not.
/// </summary>
public static class Mnist
{
    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 28;

    /// <summary>Floats per image: 1 × 28 × 28.</summary>
    public const int ImageLength = ImageSize * ImageSize;

    /// <summary>The number of classes (digits 0–9).</summary>
    public const int ClassCount = 10;

    /// <summary>The folder, relative to the current directory or to the repository root, searched first.</summary>
    public const string DefaultDirectory = "data/mnist";

    /// <summary>The folder, relative to the current directory or to the repository root, searched second.</summary>
    public const string SharedDirectory = "../shared/data/mnist";

    // The file that marks the repository root when searching upwards for it.
    private const string RepositoryMarker = "CnnGen.sln";

    /// <summary>
    /// The four files a data directory must hold, by their uncompressed names; each may instead be present gzip'd,
    /// with a <c>.gz</c> suffix (as downloaded).
    /// </summary>
    public static IReadOnlyList<string> RequiredFiles { get; } =
    [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ];

    /// <summary>The shape of one image as the loaded dataset describes it: 1 channel, 28 × 28.</summary>
    public static ReadOnlySpan<int> ImageShape => [1, ImageSize, ImageSize];

    /// <summary>
    /// Loads one split: images as floats scaled to [0, 1] (then standardised by <paramref name="normalization"/> if
    /// given), shape 1×28×28, with their labels.
    /// </summary>
    /// <param name="directory">The folder holding the IDX files.</param>
    /// <param name="split">Training (60,000 images) or test (10,000 images).</param>
    /// <param name="normalization">Optional standardisation, e.g. <see cref="PixelNormalization.Mnist"/>.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="directory"/> does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file of the split is missing; the message names the exact path.</exception>
    /// <exception cref="InvalidDataException">A file is not a valid IDX file, or the images and labels do not belong together.</exception>
    public static InMemoryDataset Load(string directory, MnistSplit split, PixelNormalization? normalization = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string prefix = split switch
        {
            MnistSplit.Train => "train",
            MnistSplit.Test => "t10k",
            _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Not an MNIST split."),
        };
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"MNIST directory not found: {Path.GetFullPath(directory)}");

        string imagesPath = LocateFile(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = LocateFile(directory, $"{prefix}-labels-idx1-ubyte");
        IdxArray images = IdxReader.Read(imagesPath);
        IdxArray labels = IdxReader.Read(labelsPath);

        if (images.Rank != 3 || images.Dimensions[1] != ImageSize || images.Dimensions[2] != ImageSize)
            throw new InvalidDataException($"'{imagesPath}' holds an array of {images}, but MNIST images are N×{ImageSize}×{ImageSize}.");
        if (labels.Rank != 1)
            throw new InvalidDataException($"'{labelsPath}' holds an array of {labels}, but MNIST labels are one-dimensional.");
        if (images.Count != labels.Count)
            throw new InvalidDataException(
                $"'{imagesPath}' holds {images.Count} images but '{labelsPath}' holds {labels.Count} labels; they must be the same number.");

        var classes = new int[labels.Count];
        ReadOnlySpan<byte> labelBytes = labels.Data;
        for (int i = 0; i < classes.Length; i++)
        {
            if (labelBytes[i] >= ClassCount)
                throw new InvalidDataException($"'{labelsPath}' holds label {labelBytes[i]} at index {i}; MNIST labels are 0 to {ClassCount - 1}.");
            classes[i] = labelBytes[i];
        }

        return new InMemoryDataset(ToFloats(images.Data, normalization), ImageShape, classes);
    }

    /// <summary>
    /// Finds a folder holding all four <see cref="RequiredFiles"/>: <paramref name="explicitDirectory"/> if given
    /// (and nothing else: a folder the user named is never silently replaced by another), otherwise the first of
    /// <see cref="CandidateDirectories"/> for the current directory. Returns its full path, or null if none has them.
    /// </summary>
    public static string? FindDataDirectory(string? explicitDirectory) =>
        FindDataDirectory(explicitDirectory, Environment.CurrentDirectory);

    /// <summary>As <see cref="FindDataDirectory(string?)"/>, searching from <paramref name="startDirectory"/> instead of the current directory.</summary>
    public static string? FindDataDirectory(string? explicitDirectory, string startDirectory)
    {
        if (explicitDirectory is not null)
            return HasRequiredFiles(explicitDirectory) ? Path.GetFullPath(explicitDirectory) : null;
        foreach (string candidate in CandidateDirectories(startDirectory))
            if (HasRequiredFiles(candidate)) return candidate;
        return null;
    }

    /// <summary>
    /// The folders searched when no folder is named, in order (full paths, without duplicates):
    /// <see cref="DefaultDirectory"/> then <see cref="SharedDirectory"/> relative to <paramref name="startDirectory"/>,
    /// then both relative to the repository root, the nearest folder at or above <paramref name="startDirectory"/>
    /// holding <c>CnnGen.sln</c> (if any). Useful to tell a user where the data was looked for.
    /// </summary>
    public static IReadOnlyList<string> CandidateDirectories(string startDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(startDirectory);
        string start = Path.GetFullPath(startDirectory);
        var candidates = new List<string>(4);
        AddCandidates(candidates, start);
        if (FindRepositoryRoot(start) is { } root) AddCandidates(candidates, root);
        return candidates;
    }

    /// <summary>Whether <paramref name="directory"/> holds all four <see cref="RequiredFiles"/>, each gzip'd or not.</summary>
    public static bool HasRequiredFiles(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        foreach (string name in RequiredFiles)
            if (!File.Exists(Path.Combine(directory, name)) && !File.Exists(Path.Combine(directory, name + ".gz")))
                return false;
        return true;
    }

    private static void AddCandidates(List<string> candidates, string baseDirectory)
    {
        foreach (string relative in (ReadOnlySpan<string>)[DefaultDirectory, SharedDirectory])
        {
            string candidate = Path.GetFullPath(Path.Combine(baseDirectory, relative));
            if (!candidates.Contains(candidate)) candidates.Add(candidate);
        }
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, RepositoryMarker))) return directory.FullName;
        return null;
    }

    // The uncompressed file if present (faster to read), else the gzip'd one.
    private static string LocateFile(string directory, string name)
    {
        string raw = Path.GetFullPath(Path.Combine(directory, name));
        if (File.Exists(raw)) return raw;
        string gzip = raw + ".gz";
        if (File.Exists(gzip)) return gzip;
        throw new FileNotFoundException($"MNIST file not found: {gzip} (nor uncompressed, {raw})", gzip);
    }

    // Bytes 0–255 to floats in [0, 1], then (x - mean) / std, in the same operations as torchvision's
    // ToTensor and Normalize (divide, subtract, divide), so the inputs match PyTorch's bit for bit. Done a cache-sized
    // chunk at a time so that the 188 MB result is written once instead of streamed through memory four times.
    private static float[] ToFloats(ReadOnlySpan<byte> pixels, PixelNormalization? normalization)
    {
        const int Chunk = 8192;
        var result = new float[pixels.Length];
        for (int start = 0; start < pixels.Length; start += Chunk)
        {
            int length = Math.Min(Chunk, pixels.Length - start);
            Span<float> chunk = result.AsSpan(start, length);
            TensorPrimitives.ConvertChecked(pixels.Slice(start, length), chunk);
            TensorPrimitives.Divide(chunk, 255f, chunk);
            if (normalization is not null)
            {
                TensorPrimitives.Subtract(chunk, normalization.Mean, chunk);
                TensorPrimitives.Divide(chunk, normalization.StandardDeviation, chunk);
            }
        }
        return result;
    }
}
