using System.Collections.Concurrent;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.FileSystem;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// A drop folder, as cameras write files by FTP or SMB. A file is taken once its size and time stamp
/// have held still for the settle time (cameras write in pieces); hidden and temporary names (.*, *.tmp,
/// *.part, *.filepart) are left alone. After its verdict is stored the file moves to done/ (or failed/
/// when it could not be scored). A file stays in place until then, so a crash or restart re-scores it
/// rather than losing it. Polling, not file-system events: events are unreliable on network mounts.
/// Only regular files are read (a symbolic link, FIFO, socket or device gets an error verdict and moves
/// to failed/ without being opened), and never more than Limits:MaxFrameBytes + 1 bytes of one.
/// </summary>
public sealed class FolderSource(IOptions<AgentOptions> options, FrameQueue queue, ILogger<FolderSource> logger) : BackgroundService
{
    private readonly ILogger _logger = logger;
    private static readonly string[] TemporarySuffixes = [".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp"];
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Length, DateTime Written, long SeenAt)> _settling = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value.Sources.Folder!;
        string folder = Path.GetFullPath(o.Path);
        string done = Path.Combine(folder, "done"), failed = Path.Combine(folder, "failed");
        try
        {
            Directory.CreateDirectory(done);
            Directory.CreateDirectory(failed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("Folder source {Folder} cannot be used: {Reason}; retrying", folder, e.Message);
        }
        logger.LogInformation("Watching {Folder} for frames (scored files move to done/ or failed/)", folder);
        long maxBytes = options.Value.Limits.MaxFrameBytes;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(o.PollMilliseconds));
        bool reportedMissing = false;
        do
        {
            string[] files;
            try
            {
                files = Directory.GetFiles(folder);
                Directory.CreateDirectory(done);
                Directory.CreateDirectory(failed);
                reportedMissing = false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (!reportedMissing) logger.LogError("Cannot read folder {Folder}: {Reason}", folder, e.Message);
                reportedMissing = true;
                continue;
            }
            Array.Sort(files, StringComparer.Ordinal); // oldest-named first, as cameras number their files
            long now = Environment.TickCount64;
            foreach (var path in files)
            {
                string name = Path.GetFileName(path);
                if (name.StartsWith('.') || TemporarySuffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase))) continue;
                if (_inFlight.ContainsKey(path)) continue;
                var (kind, _) = RegularFile.Inspect(path);
                if (kind == RegularFile.Kind.Missing) continue;
                if (kind != RegularFile.Kind.Regular)
                {
                    // Never opened (a FIFO without a writer would block the reader): an error verdict, and out of the way.
                    _inFlight[path] = 0;
                    await queue.PostWhenRoomAsync(new Frame
                    {
                        Id = name, Source = "folder", Product = o.Product, Bytes = [], Completion = new FileCompletion(this, path, done, failed),
                        RejectReason = $"{name}: {RegularFile.Describe(kind)}, not a regular file",
                    }, stoppingToken);
                    continue;
                }
                FileInfo info = new(path);
                if (!info.Exists) continue;
                var signature = (info.Length, info.LastWriteTimeUtc);
                if (!_settling.TryGetValue(path, out var seen) || (seen.Length, seen.Written) != signature)
                {
                    _settling[path] = (signature.Length, signature.LastWriteTimeUtc, now);
                    if (o.SettleMilliseconds > 0) continue;
                }
                else if (now - seen.SeenAt < o.SettleMilliseconds) continue;
                _settling.Remove(path);

                Frame frame;
                var completion = new FileCompletion(this, path, done, failed);
                if (info.Length > maxBytes)
                    frame = new Frame { Id = name, Source = "folder", Product = o.Product, Bytes = [], Completion = completion,
                                        RejectReason = $"{name}: {info.Length} bytes, over the limit of {maxBytes}" };
                else
                {
                    byte[] bytes;
                    string? refused = null;
                    try { bytes = RegularFile.Read(path, maxBytes); }
                    catch (FileRefusedException e) when (RegularFile.Inspect(path).Kind != RegularFile.Kind.Missing)
                    {
                        bytes = [];
                        refused = e.Message.Replace(path, name); // grew past the limit, or swapped for a special file
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        logger.LogDebug("Cannot read {Path} yet: {Reason}", path, e.Message); // still being written, locked or gone
                        continue;
                    }
                    frame = new Frame { Id = name, Source = "folder", Product = o.Product, Bytes = bytes, Completion = completion,
                                        CapturedAt = new DateTimeOffset(info.LastWriteTimeUtc), RejectReason = refused };
                }
                _inFlight[path] = 0;
                await queue.PostWhenRoomAsync(frame, stoppingToken);
            }
            // Forget files that went away before they settled.
            foreach (var stale in _settling.Keys.Where(k => !File.Exists(k)).ToList()) _settling.Remove(stale);
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private sealed class FileCompletion(FolderSource owner, string path, string done, string failed) : IFrameCompletion
    {
        public void Completed(Verdict verdict)
        {
            string target = verdict.Result == Verdict.Error ? failed : done;
            try
            {
                File.Move(path, UniqueName(Path.Combine(target, Path.GetFileName(path))));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Leave it in flight: it is scored and its verdict stored, so do not score it again.
                owner._logger.LogError("Cannot move {Path} to {Target}: {Reason}", path, target, e.Message);
                return;
            }
            owner._inFlight.TryRemove(path, out _);
        }

        public void Dropped() => owner._inFlight.TryRemove(path, out _); // still in the folder: picked up again

        private static string UniqueName(string path)
        {
            if (!File.Exists(path)) return path;
            string stem = Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path)), ext = Path.GetExtension(path);
            for (int i = 1; ; i++)
                if (!File.Exists($"{stem}.{i}{ext}")) return $"{stem}.{i}{ext}";
        }
    }
}
