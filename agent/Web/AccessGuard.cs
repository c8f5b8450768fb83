using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace EdgePatchCore.Agent.Web;

/// <summary>
/// Who may read the page. Bound to loopback only, requests must come from this machine and name it in
/// their Host header (a web page elsewhere cannot reach the agent through DNS rebinding). With a token,
/// every request but /healthz must carry it: "Authorization: Bearer TOKEN" (Prometheus, curl), or the
/// cookie set by opening /?token=TOKEN once in a browser. A refused request is answered at once and its connection
/// closed, so clients without access cannot hold connections; the cap on page clients
/// (<see cref="LivePageServer.MaxClients"/> requests at once, each open page holding one /events stream) counts
/// admitted clients only, and /healthz is never capped. Refusals are counted and logged at a limited rate.
/// </summary>
public sealed class AccessGuard(bool loopbackOnly, string token, int maxClients, Pipeline.DropCounter drops)
{
    public const string CookieName = "edgepatchcore-token";
    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]", "::1"];
    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);
    private readonly SemaphoreSlim _clients = new(maxClients, maxClients);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!await AdmitAsync(context)) return;
        if (context.Request.Path == "/healthz")
        {
            await next(context);
            return;
        }
        if (!_clients.Wait(0))
        {
            drops.Drop("page-client", $"more than {maxClients} page clients at once");
            await Refuse(context, StatusCodes.Status503ServiceUnavailable, $"the page serves {maxClients} clients at once; try again later");
            return;
        }
        try { await next(context); }
        finally { _clients.Release(); }
    }

    /// <summary>Whether the request may be served; when not, it is answered (and its connection closed) here.</summary>
    private async Task<bool> AdmitAsync(HttpContext context)
    {
        var request = context.Request;
        if (loopbackOnly && !(context.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip)
                              && LoopbackHosts.Contains(request.Host.Host, StringComparer.OrdinalIgnoreCase)))
        {
            drops.Drop("page-refused", "a request from another machine or host name refused (the page binds loopback)");
            await Refuse(context, StatusCodes.Status403Forbidden,
                "this page only answers requests from this machine (Agent:Web:Urls binds loopback)");
            return false;
        }
        if (_token.Length > 0 && request.Path != "/healthz")
        {
            if (request.Query["token"].ToString() is { Length: > 0 } offered && Matches(offered))
            {
                // Trade the token in the address for a cookie, so that it does not stay in the address bar or history.
                context.Response.Cookies.Append(CookieName, offered, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict,
                    Path = "/" });
                context.Response.Redirect(request.PathBase + request.Path);
                return false;
            }
            string? bearer = request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ",
                StringComparison.Ordinal) ? auth[7..].Trim() : null;
            if (!Matches(bearer) && !Matches(request.Cookies[CookieName]))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                drops.Drop("page-refused", "a request without the page's token refused");
                await Refuse(context, StatusCodes.Status401Unauthorized,
                    "a token is required: open /?token=TOKEN once, or send Authorization: Bearer TOKEN");
                return false;
            }
        }
        return true;
    }

    private bool Matches(string? offered) =>
        offered is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(offered), _token);

    private static Task Refuse(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Connection = "close"; // the server closes the connection after this answer
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }
}
