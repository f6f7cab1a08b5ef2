using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CnnGen.Training;

/// <summary>
/// Shows training progress: on a terminal, a live bar per epoch with the running loss, samples per second and the
/// time left; when the output is redirected or in CI, plain lines at intervals. Each epoch ends with a summary line.
/// </summary>
/// <remarks>
/// <para>The live display is drawn by Spectre.Console on a thread of its own, which samples counters the training
/// thread writes; so <see cref="OnStep"/> costs a few field writes and allocates nothing. Plain mode formats a line
/// only when <see cref="PlainInterval"/> has passed.</para>
/// <para>Plain mode is chosen when standard output is redirected, when the <c>CI</c> environment variable is set, or
/// when a writer is given.</para>
/// </remarks>
public sealed class ConsoleProgress : TrainingCallback, IDisposable
{
    private readonly TextWriter? _writer;
    private readonly ConcurrentQueue<(int Epoch, string Summary)> _finishedEpochs = new();
    private Thread? _display;
    private volatile bool _trainingEnded;

    // Written by the training thread, read by the display thread.
    private volatile int _epoch = -1;
    private int _epochs;
    private int _samplesPerEpoch;
    private volatile int _epochSamples;
    private double _epochLossSum;
    private volatile float _runningLoss = float.NaN;

    private long _lastPlainLine;

    /// <summary>Shows progress on the console, live if it is an interactive terminal, as plain lines otherwise.</summary>
    public ConsoleProgress() : this(null, IsInteractiveConsole()) { }

    /// <summary>Writes plain progress lines to <paramref name="writer"/> (e.g. a log file or a test's <c>StringWriter</c>).</summary>
    public ConsoleProgress(TextWriter writer) : this(writer ?? throw new ArgumentNullException(nameof(writer)), interactive: false) { }

    private ConsoleProgress(TextWriter? writer, bool interactive)
    {
        _writer = writer;
        Interactive = interactive;
    }

    /// <summary>Whether progress is drawn live (a terminal) rather than written as plain lines.</summary>
    public bool Interactive { get; }

    /// <summary>In plain mode, the least time between two progress lines within an epoch. Default 10 seconds.</summary>
    public TimeSpan PlainInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether the console is a terminal a live display can draw on: output not redirected, not in CI.</summary>
    public static bool IsInteractiveConsole() =>
        !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <inheritdoc/>
    public override void OnTrainingStart(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _epochs = context.Epochs;
        _samplesPerEpoch = context.SamplesPerEpoch;
        _trainingEnded = false;
        _finishedEpochs.Clear();
        if (Interactive)
        {
            _display = new Thread(RunLiveDisplay) { IsBackground = true, Name = "CnnGen progress" };
            _display.Start();
        }
    }

    /// <inheritdoc/>
    public override void OnEpochStart(TrainingContext context, int epoch)
    {
        _epochSamples = 0;
        _epochLossSum = 0;
        _runningLoss = float.NaN;
        _lastPlainLine = Stopwatch.GetTimestamp();
        _epoch = epoch;
    }

    /// <inheritdoc/>
    public override void OnStep(TrainingContext context, in StepReport step)
    {
        _epochLossSum += (double)step.Loss * step.BatchSize;
        _runningLoss = (float)(_epochLossSum / step.EpochSamples);
        _epochSamples = step.EpochSamples;
        if (Interactive || step.EpochSamples >= step.SamplesPerEpoch) return;
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastPlainLine, now) < PlainInterval) return;
        _lastPlainLine = now;
        WritePlain(FormatPlainProgress(step));
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainingContext context, EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (Interactive) _finishedEpochs.Enqueue((report.Epoch, Summary(report)));
        else WritePlain(Summary(report));
    }

    /// <inheritdoc/>
    public override void OnTrainingEnd(TrainingContext context, TrainingReport report)
    {
        _trainingEnded = true;
        _display?.Join();
        _display = null;
        if (report?.StopReason is { } reason) WritePlain($"stopped: {reason}");
    }

    /// <summary>Stops the live display if training did not end it (it always does, even on an exception).</summary>
    public void Dispose()
    {
        _trainingEnded = true;
        _display?.Join();
        _display = null;
    }

    /// <summary>The line that closes an epoch, e.g. <c>epoch 1/5  loss 0.2134  val loss 0.0712  acc 97.81%  12.3 s  4,878 samples/s</c>.</summary>
    public static string Summary(EpochReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var culture = CultureInfo.InvariantCulture;
        string validation = report.Validation is not { } v ? ""
            : double.IsNaN(v.Accuracy) ? string.Create(culture, $"  val loss {v.Loss:0.0000}")
            : string.Create(culture, $"  val loss {v.Loss:0.0000}  acc {v.Accuracy * 100:0.00}%");
        return string.Create(culture,
            $"epoch {report.Epoch + 1}/{report.Epochs}  loss {report.TrainingLoss:0.0000}{validation}  {report.TrainingTime.TotalSeconds:0.0} s  {report.SamplesPerSecond:N0} samples/s");
    }

    private string FormatPlainProgress(in StepReport step)
    {
        double seconds = step.EpochElapsed.TotalSeconds;
        double rate = seconds > 0 ? step.EpochSamples / seconds : 0;
        string eta = rate > 0 ? FormatDuration(TimeSpan.FromSeconds((step.SamplesPerEpoch - step.EpochSamples) / rate)) : "?";
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {step.Epoch + 1}/{step.Epochs}  {100.0 * step.EpochSamples / step.SamplesPerEpoch,3:0}% ({step.EpochSamples:N0}/{step.SamplesPerEpoch:N0})  loss {_runningLoss:0.0000}  {rate:N0} samples/s  ETA {eta}");
    }

    private static string FormatDuration(TimeSpan time) =>
        time.TotalHours >= 1 ? time.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : time.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private void WritePlain(string line)
    {
        if (_writer is not null)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
        else if (!Interactive)
        {
            Console.Out.WriteLine(line);
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape(line));
        }
    }

    // The display thread: one Spectre task per epoch; a finished epoch's row keeps its summary.
    private void RunLiveDisplay()
    {
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new SamplesPerSecondColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(progress =>
            {
                ProgressTask? task = null;
                int taskEpoch = -1, lastFinished = -1;
                while (true)
                {
                    bool ended = _trainingEnded;
                    int epoch = _epoch;
                    while (_finishedEpochs.TryDequeue(out var finished))
                    {
                        // A finished epoch's row keeps its summary; an epoch too short to have been shown gets a row now.
                        var row = task is not null && taskEpoch == finished.Epoch ? task
                            : progress.AddTask("", maxValue: Math.Max(1, _samplesPerEpoch));
                        row.Description = Markup.Escape(finished.Summary);
                        row.Value = row.MaxValue;
                        row.StopTask();
                        if (row == task) task = null;
                        lastFinished = finished.Epoch;
                    }
                    if (ended) break;
                    if (task is null && epoch > lastFinished)
                    {
                        task = progress.AddTask(EpochLabel(epoch), maxValue: Math.Max(1, _samplesPerEpoch));
                        taskEpoch = epoch;
                    }
                    if (task is not null)
                    {
                        float loss = _runningLoss;
                        task.Value = _epochSamples;
                        task.Description = float.IsNaN(loss) ? EpochLabel(taskEpoch)
                            : string.Create(CultureInfo.InvariantCulture, $"{EpochLabel(taskEpoch)}  loss {loss:0.0000}");
                    }
                    Thread.Sleep(100);
                }
                task?.StopTask();
            });
    }

    private string EpochLabel(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{_epochs}");

    /// <summary>The task's speed as samples per second.</summary>
    private sealed class SamplesPerSecondColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed && !task.IsFinished
                ? string.Create(CultureInfo.InvariantCulture, $"{speed:N0} samples/s")
                : "", new Style(Color.Grey));
    }
}
