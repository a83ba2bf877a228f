using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace LatentLab.Cli.Infrastructure;

/// <summary>
/// A progress bar for one phase of work (an epoch, a sampling run): on a terminal a live Spectre.Console bar with
/// percent, time left and the caller's status text (losses, images/s); when output is redirected, a plain line every
/// few seconds instead, so logs stay readable.
/// </summary>
public sealed class ConsoleProgress : IDisposable
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    private readonly string _description;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ManualResetEventSlim _ready = new();
    private readonly ManualResetEventSlim _finished = new();
    private readonly Task? _renderer;
    private ProgressTask? _task;
    private TimeSpan _lastPlainLine = TimeSpan.Zero;
    private bool _completed;

    private ConsoleProgress(string description, long total)
    {
        _description = description;
        _total = Math.Max(1, total);
        if (!CliOutput.IsInteractive) return;

        // Spectre's live display runs inside a callback; keep that callback open on a background task until Complete.
        _renderer = Task.Run(() => AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 },
                new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                _task = context.AddTask(Markup.Escape(description), maxValue: _total);
                _ready.Set();
                _finished.Wait();
            }));
        _ready.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>Starts a bar for <paramref name="total"/> units of work.</summary>
    public static ConsoleProgress Start(string description, long total) => new(description, total);

    /// <summary>Updates the count of finished units and the status text shown beside the bar.</summary>
    public void Report(long done, string status = "")
    {
        if (_task is { } task)
        {
            task.Value = Math.Min(done, _total);
            string text = status.Length == 0 ? _description : $"{_description}  {status}";
            // Beside the bar, percent, times and spinner (about 60 columns), a longer text would wrap every frame.
            int room = Math.Max(20, AnsiConsole.Profile.Width - 60);
            task.Description = Markup.Escape(text.Length > room ? text[..(room - 1)] + "…" : text);
            return;
        }
        if (_clock.Elapsed - _lastPlainLine < PlainInterval) return;
        _lastPlainLine = _clock.Elapsed;
        double percent = 100.0 * Math.Min(done, _total) / _total;
        string line = string.Create(CultureInfo.InvariantCulture, $"{_description}: {done}/{_total} ({percent:F0}%) {status}");
        CliOutput.Line(line.TrimEnd());
    }

    /// <summary>Ends the bar and prints <paramref name="finalLine"/> (one greppable line) if given.</summary>
    public void Complete(string? finalLine = null)
    {
        if (_completed) return;
        _completed = true;
        _finished.Set();
        _renderer?.Wait();
        if (finalLine != null) CliOutput.Line(finalLine);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Complete();
        _ready.Dispose();
        _finished.Dispose();
    }
}
