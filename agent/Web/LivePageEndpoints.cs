using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgePatchCore.Agent.Web;

/// <summary>
/// The page's routes: / (the page), /live.js, /live.css and /favicon.svg (all it loads), /state
/// (a snapshot as JSON), /events (the same snapshot as server-sent events, on every frame and at least
/// every second), /frames/N.jpg (a recent frame's heat map), /healthz; /metrics is the Prometheus exporter's.
/// </summary>
public static class LivePageEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    // The page ships its own script and style and loads nothing else (plant networks have no internet).
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; " +
        "form-action 'none'; frame-ancestors 'none'";

    public static void Map(IEndpointRouteBuilder app, LiveState state, CancellationToken stopping)
    {
        foreach (var (path, name, type) in new[]
        {
            ("/", "index.html", "text/html; charset=utf-8"), ("/live.js", "live.js", "text/javascript; charset=utf-8"),
            ("/live.css", "live.css", "text/css; charset=utf-8"), ("/favicon.svg", "favicon.svg", "image/svg+xml"),
        })
        {
            byte[] bytes = Asset(name); // read once, when the page starts
            app.MapGet(path, () => Results.Bytes(bytes, type));
        }
        app.MapGet("/state", () => Results.Json(state.Snapshot(), Json));
        app.MapGet("/frames/{number:long}.jpg", (long number, HttpContext context) =>
        {
            if (state.Recent.Overlay(number) is not { } jpeg) return Results.NotFound();
            context.Response.Headers.CacheControl = "private, max-age=3600, immutable"; // a frame's number never names another image
            return Results.Bytes(jpeg, "image/jpeg");
        });
        // 503 only when the agent cannot inspect; degraded (inspecting, SCADA not reached) is 200 with the reasons.
        app.MapGet("/healthz", () => state.Health() is var h && h.Status == "unhealthy"
            ? Results.Json(h, Json, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(h, Json));
        app.MapGet("/events", (HttpContext context) => StreamAsync(context, state, stopping));
    }

    /// <summary>Adds the page's security headers to every response.</summary>
    public static Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return next(context);
    }

    private static async Task StreamAsync(HttpContext context, LiveState state, CancellationToken stopping)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var cancel = both.Token;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                var json = JsonSerializer.Serialize(state.Snapshot(), Json);
                await context.Response.WriteAsync($"data: {json}\n\n", cancel);
                await context.Response.Body.FlushAsync(cancel);
                await state.Recent.WaitForFrameAsync(TimeSpan.FromSeconds(1), cancel);
                await Task.Delay(100, cancel); // at most ten updates a second, however fast the line runs
            }
        }
        catch (OperationCanceledException) { } // the browser went away, or the agent stops
    }

    private static byte[] Asset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"EdgePatchCore.Agent.Web.Page.{name}")
            ?? throw new InvalidOperationException($"the page asset {name} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
