using EdgePatchCore.Agent.Cameras;
using EdgePatchCore.Agent.Configuration;
using System.Diagnostics.Metrics;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Triggers;
using EdgePatchCore.Agent.Web;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// A GigE Vision camera (Aravis), free-running or triggered. One supervisor thread owns the camera: it opens it by address, sets the
/// configured features, takes frames (converted to RGB from the camera's buffers) into the queue, and when the camera is lost (unplugged,
/// restarted) closes it and opens it again with a doubling back-off, setting the features again; scoring never waits for it. In
/// TriggerSource Software it is the <see cref="ITriggerTarget"/> of {prefix}/trigger: triggers are fired one at a time, and each delivered
/// frame belongs to the one in flight. A buffer with lost packets becomes an error verdict, never a score.
/// </summary>
public sealed class GenICamSource : BackgroundService, ITriggerTarget
{
    /// <summary>How long a discovery (a camera given by serial number or name) waits for answers.</summary>
    public static readonly TimeSpan DiscoveryListen = TimeSpan.FromSeconds(1);
    private readonly GenICamSourceOptions _options;
    private readonly string _name; // the address, or serial/name and interface, for logs
    private readonly FrameQueue _queue;
    private readonly CameraCounters _counters;
    private readonly TriggerBook? _book;
    private readonly RecipeSelection? _recipe;
    private readonly ILogger<GenICamSource> _logger;
    private readonly object _lock = new();
    private readonly Queue<(string PartId, string? Product)> _waiting = new();
    private (string PartId, string? Product)? _inFlight; // fired, its frame not yet arrived
    private long _firedAt; // Stopwatch timestamp of the in-flight trigger
    private readonly TimeSpan _lostTriggerAfter;
    private readonly bool _software, _line;
    private GenICamCamera? _camera;

    public GenICamSource(IOptions<AgentOptions> options, FrameQueue queue, CameraCounters counters, IMeterFactory meters,
                         ILogger<GenICamSource> logger, TriggerBook? book = null, RecipeSelection? recipe = null)
    {
        _recipe = recipe;
        var meter = meters.Create(AgentInstruments.MeterName, BrokerConnection.Version);
        meter.CreateObservableCounter("edgepatchcore.camera.frames", () => counters.Frames, "{frame}", "Frames the camera delivered");
        meter.CreateObservableCounter("edgepatchcore.camera.incomplete", () => counters.Incomplete, "{frame}",
                                      "Frames that came incomplete (lost packets): error verdicts, never scored");
        meter.CreateObservableCounter("edgepatchcore.camera.reconnects", () => counters.Reconnects, "{reconnect}",
                                      "Times the camera was opened again after it was lost");
        meter.CreateObservableGauge("edgepatchcore.camera.connected", () => counters.Connected ? 1 : 0, null, "1 while the camera delivers");
        _options = options.Value.Sources.GenICam!;
        _name = _options.Describe();
        (_queue, _counters, _logger, _book) = (queue, counters, logger, book);
        _software = string.Equals(_options.TriggerSource, "Software", StringComparison.OrdinalIgnoreCase);
        _line = !_software && !string.IsNullOrWhiteSpace(_options.TriggerSource);
        _lostTriggerAfter = TimeSpan.FromMilliseconds(Math.Max(1000, 2 * options.Value.Triggers.DeadlineMilliseconds));
        book?.Attach(this); // registered only for a triggered camera
    }

    public string? RefusesMessages => _software ? null
        : $"camera {_name} is triggered by its {_options.TriggerSource} input (the PLC's wire): trigger messages are not taken";

    public string? NotReady => _counters.Problem is { } problem ? $"camera {_name}: {problem}" : null;

    public void Fire(string partId, string? product)
    {
        lock (_lock)
        {
            if (_camera is null) throw new CameraException(NotReady ?? $"camera {_name} is not connected");
            _waiting.Enqueue((partId, product));
            if (_inFlight is null) FireNext(throwFor: partId);
        }
    }

    /// <summary>
    /// Fires the oldest waiting trigger that is still open, one at a time: the next fires when the frame of this one arrives, so every frame
    /// belongs to exactly one trigger even where a camera merges or ignores triggers that overlap its exposure. A frame that comes after its
    /// part's deadline still belongs to it (a late result); only when none comes within twice the deadline (at least 1 s) is the trigger
    /// taken as lost and the next one fired. Under <see cref="_lock"/>; a failure is thrown when it concerns <paramref name="throwFor"/>
    /// (the caller's part), otherwise that part is answered at its deadline.
    /// </summary>
    private void FireNext(string? throwFor = null)
    {
        _inFlight = null;
        while (_camera is { } camera && _waiting.TryDequeue(out var next))
        {
            if (_book?.IsOpen(next.PartId) == false)
            {
                // Its part was answered at the deadline while it waited (behind another frame, or on a busy machine) and has moved on.
                _logger.LogWarning("Camera {Address}: part {Part} was not triggered: its deadline passed before the camera could be fired for it",
                                   _name, next.PartId);
                continue;
            }
            try
            {
                camera.SoftwareTrigger();
                (_inFlight, _firedAt) = (next, System.Diagnostics.Stopwatch.GetTimestamp());
                return;
            }
            catch (CameraException e)
            {
                if (next.PartId == throwFor) throw;
                _logger.LogWarning("Camera {Address}: the trigger for part {Part} failed: {Reason}", _name, next.PartId, e.Message);
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Supervise(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Supervise(CancellationToken stop)
    {
        var settings = new CameraSettings
        {
            PixelFormat = Blank(_options.PixelFormat), Width = _options.Width, Height = _options.Height, OffsetX = _options.OffsetX,
            OffsetY = _options.OffsetY, ExposureMicroseconds = _options.ExposureMicroseconds, Gain = _options.Gain, FrameRate = _options.FrameRate,
            TriggerSource = Blank(_options.TriggerSource), TriggerActivation = Blank(_options.TriggerActivation), Buffers = _options.Buffers,
        };
        double backoff = 0.5;
        bool connectedOnce = false;
        string? lastProblem = null;
        while (!stop.IsCancellationRequested)
        {
            GenICamCamera? camera = null;
            try
            {
                var (address, local) = string.IsNullOrWhiteSpace(_options.Address)
                    ? GigEDiscovery.Find(_options.Interface, _options.Serial ?? _options.Name!, DiscoveryListen)
                    : CameraAddress.Resolve(_options.Address, _options.Interface);
                camera = GenICamCamera.OpenGigE(address, local);
                camera.Configure(settings);
                camera.Start(settings.Buffers);
                lock (_lock)
                {
                    _camera = camera;
                    _inFlight = null;
                    _waiting.Clear(); // triggers from before the camera was lost are answered at their deadline
                }
                _counters.Up(reconnect: connectedOnce);
                _logger.LogInformation("Camera {Address}: {Vendor} {Model} (serial {Serial}) at {Ip}, {Format} {Width} x {Height}, {Mode}{Again}",
                    _name, camera.Vendor, camera.Model, camera.Serial, address, camera.PixelFormat, camera.Width, camera.Height,
                    settings.TriggerSource is { } source ? $"triggered by {source}" : "free-running", connectedOnce ? " (reconnected)" : "");
                (connectedOnce, backoff, lastProblem) = (true, 0.5, null);
                while (!stop.IsCancellationRequested && !camera.ControlLost)
                {
                    if (camera.Next(TimeSpan.FromMilliseconds(20)) is { } frame) Deliver(frame, camera);
                    else if (_software) ReleaseLost();
                }
                if (camera.ControlLost) throw new CameraException("the camera stopped answering (control lost)");
            }
            catch (Exception e) when (e is CameraException or DllNotFoundException or EntryPointNotFoundException)
            {
                string problem = e is CameraException ? e.Message : "Aravis is not installed (apt-get install libaravis-0.8-0)";
                _counters.Down(problem);
                if (problem != lastProblem)
                    _logger.LogWarning("Camera {Address}: {Problem}; trying again, at most every {Max} s", _name, problem,
                                       _options.ReconnectMaxSeconds);
                lastProblem = problem;
            }
            finally
            {
                lock (_lock) _camera = null; // open triggers are answered at their deadline (camera-timeout)
                if (stop.IsCancellationRequested) _counters.Down("stopped");
                camera?.Dispose(); // may block for seconds when the camera is gone: on this thread, never the scorer's
            }
            if (stop.WaitHandle.WaitOne(TimeSpan.FromSeconds(backoff))) break;
            backoff = Math.Min(backoff * 2, _options.ReconnectMaxSeconds);
        }
    }

    private void Deliver(CameraFrame frame, GenICamCamera camera)
    {
        _counters.Frame(incomplete: frame.Problem is not null);
        string id = $"cam-{frame.ReceivedAt:yyyyMMddTHHmmssfff}-{frame.FrameId}";
        string? partId = null, product = _recipe?.Current ?? _options.Product;
        if (_software)
        {
            lock (_lock)
            {
                if (_inFlight is { } fired) (partId, product) = (fired.PartId, fired.Product ?? product);
                FireNext();
            }
            if (partId is null)
            {
                _counters.FrameUnclaimed();
                frame.Image?.Dispose();
                if (_counters.Unclaimed is var n && (n == 1 || n % 100 == 0))
                    _logger.LogWarning("Camera {Address} sent frame {Frame} that no open trigger asked for; dropped ({Count} so far)",
                                       _name, frame.FrameId, _counters.Unclaimed);
                return;
            }
            _book?.FrameArrived(partId, lineTrigger: false);
        }
        else if (_line)
        {
            partId = "line-" + id;
            _book?.FrameArrived(partId, lineTrigger: true);
        }
        _queue.Post(new Frame
        {
            Id = id, Source = "genicam", Product = product, Bytes = [], Pixels = frame.Image, CapturedAt = frame.ReceivedAt, PartId = partId,
            Camera = new VerdictCamera(frame.FrameId, frame.CameraTimestampNs),
            RejectReason = frame.Problem is null ? null : $"{id}: {frame.Problem} from camera {camera.Name}",
        });
    }

    /// <summary>A trigger that got no frame within <see cref="_lostTriggerAfter"/>: the camera lost it (its part was answered ERROR at the
    /// deadline); the next one may fire.</summary>
    private void ReleaseLost()
    {
        lock (_lock)
        {
            if (_inFlight is not { } fired || System.Diagnostics.Stopwatch.GetElapsedTime(_firedAt) < _lostTriggerAfter) return;
            _logger.LogWarning("Camera {Address} sent no frame for part {Part} within {Ms} ms of its trigger: taken as lost", _name,
                               fired.PartId, _lostTriggerAfter.TotalMilliseconds);
            FireNext();
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
