using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// An MJPEG stream: the standard output of a configured command (e.g. ffmpeg -f v4l2 -i /dev/video0
/// -f mjpeg -, or gst-launch-1.0 ... ! jpegenc ! fdsink) or, with Command "-", the agent's own standard
/// input. Split into JPEG frames; a live source, so the oldest frames are dropped when scoring falls behind.
/// A command that exits is restarted after RestartSeconds.
/// </summary>
public sealed class MjpegSource(IOptions<AgentOptions> options, FrameQueue queue, ILogger<MjpegSource> logger) : BackgroundService
{
    private long _sequence;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value.Sources.Mjpeg!;
        await Task.Yield();
        if (o.Command == "-")
        {
            logger.LogInformation("Reading an MJPEG stream from standard input");
            await ReadAsync(Console.OpenStandardInput(), o, stoppingToken);
            logger.LogInformation("MJPEG stream on standard input ended");
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var start = new ProcessStartInfo(o.Command, o.Arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            Process? process = null;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("process did not start");
                logger.LogInformation("MJPEG source: started {Command} {Arguments} (pid {Pid})", Text.Redact(o.Command), Text.Redact(o.Arguments),
                    process.Id);
                process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) logger.LogDebug("{Command}: {Line}",
                    Text.Redact(o.Command), Text.Redact(Text.Cap(line, 1024))); };
                process.BeginErrorReadLine();
                await ReadAsync(process.StandardOutput.BaseStream, o, stoppingToken);
                await process.WaitForExitAsync(stoppingToken);
                logger.LogWarning("MJPEG source: {Command} exited with code {Code}; restarting in {Seconds} s", Text.Redact(o.Command),
                    process.ExitCode, o.RestartSeconds);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                logger.LogError("MJPEG source: cannot run {Command}: {Reason}; retrying in {Seconds} s", Text.Redact(o.Command),
                    Text.Redact(e.Message), o.RestartSeconds);
            }
            finally
            {
                if (process is not null)
                {
                    try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                    process.Dispose();
                }
            }
            try { await Task.Delay(TimeSpan.FromSeconds(o.RestartSeconds), stoppingToken); } catch (OperationCanceledException) { break; }
        }
    }

    private async Task ReadAsync(Stream stream, MjpegSourceOptions o, CancellationToken cancel)
    {
        var splitter = new MjpegSplitter((int)Math.Min(int.MaxValue, options.Value.Limits.MaxFrameBytes));
        var chunk = new byte[1 << 16];
        int oversized = 0;
        while (true)
        {
            int read = await stream.ReadAsync(chunk, cancel);
            if (read == 0) return;
            splitter.Append(chunk.AsSpan(0, read));
            while (splitter.TryTake(out var jpeg))
            {
                long n = Interlocked.Increment(ref _sequence);
                queue.Post(new Frame { Id = $"mjpeg-{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{n}", Source = "mjpeg", Product = o.Product, Bytes = jpeg });
            }
            if (splitter.Oversized != oversized)
            {
                oversized = splitter.Oversized;
                logger.LogWarning("MJPEG source: discarded a frame over {Max} bytes ({Count} so far)", options.Value.Limits.MaxFrameBytes, oversized);
            }
        }
    }
}
