using System.Net;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// An HTTP snapshot camera on 127.0.0.1: answers the first <c>frames</c> requests with the JPEG, then 503 (a camera
/// that fails), until disposed. <see cref="Served"/> counts every request.
/// </summary>
public sealed class SnapshotCamera : IDisposable
{
    private readonly HttpListener _listener = new();
    private int _served;
    public string Url { get; }
    public int Served => Volatile.Read(ref _served);

    public SnapshotCamera(byte[] jpeg, int frames)
    {
        int port = MosquittoBroker.FreePort();
        Url = $"http://127.0.0.1:{port}/snapshot/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
                if (Interlocked.Increment(ref _served) <= frames)
                {
                    context.Response.ContentType = "image/jpeg";
                    await context.Response.OutputStream.WriteAsync(jpeg);
                }
                else context.Response.StatusCode = 503;
                context.Response.Close();
            }
        });
    }

    /// <summary>An MJPEG stream as a multipart HTTP camera sends it (boundaries and headers between the JPEGs), written to <paramref name="path"/>.</summary>
    public static void WriteMjpegStream(string path, IEnumerable<string> jpegs)
    {
        using var file = File.Create(path);
        foreach (var jpeg in jpegs)
        {
            var bytes = File.ReadAllBytes(jpeg);
            file.Write(System.Text.Encoding.ASCII.GetBytes($"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {bytes.Length}\r\n\r\n"));
            file.Write(bytes);
            file.Write("\r\n"u8);
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
