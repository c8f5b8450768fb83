using System.Diagnostics;
using EdgePatchCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Trainer.Cli;

/// <summary>
/// The trainer's ILogger and progress sink: log lines and progress on stderr, a redrawn bar with rate and time left on a terminal,
/// plain lines every 10% (and at the end) when the output goes to a file or pipe.
/// </summary>
public sealed class ConsoleProgress(TextWriter writer, bool interactive) : ILogger, IProgress<StageProgress>
{
    private string? _stage;
    private readonly Stopwatch _stageClock = new();
    private long _lastDecile = -1;
    private long _lastDrawMs = -1000;
    private bool _barOpen;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string message = formatter(state, exception);
        Line(logLevel >= LogLevel.Error ? "error: " + message : logLevel == LogLevel.Warning ? "warning: " + message : message);
    }

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public void Report(StageProgress value)
    {
        var (stage, done, total, detail) = value;
        if (stage != _stage)
        {
            CloseBar();
            _stage = stage;
            _stageClock.Restart();
            _lastDecile = -1;
            _lastDrawMs = -1000;
        }
        total = Math.Max(total, 1);
        double fraction = Math.Clamp((double)done / total, 0, 1);
        double elapsed = _stageClock.Elapsed.TotalSeconds;
        string eta = done > 0 && done < total ? $", {Format(elapsed / done * (total - done))} left" : "";
        string extra = detail is null ? "" : $", {detail}";
        if (interactive)
        {
            long now = _stageClock.ElapsedMilliseconds;
            if (done < total && now - _lastDrawMs < 100) return;
            _lastDrawMs = now;
            int width = 30, filled = (int)(fraction * width);
            writer.Write($"\r{stage,-16} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} {fraction,4:P0}{eta}{extra}   ");
            _barOpen = true;
            if (done >= total) CloseBar();
        }
        else
        {
            long decile = (long)(fraction * 10);
            if (decile == _lastDecile) return;
            _lastDecile = decile;
            writer.WriteLine($"{stage}: {done}/{total} ({fraction:P0}) in {Format(elapsed)}{eta}{extra}");
        }
    }

    private void Line(string message)
    {
        CloseBar();
        writer.WriteLine(message);
    }

    private void CloseBar()
    {
        if (!_barOpen) return;
        writer.WriteLine();
        _barOpen = false;
    }

    private static string Format(double seconds) => seconds < 60 ? $"{seconds:F0}s"
        : seconds < 3600 ? $"{(int)seconds / 60}m{(int)seconds % 60:D2}s" : $"{(int)seconds / 3600}h{(int)seconds % 3600 / 60:D2}m";
}
