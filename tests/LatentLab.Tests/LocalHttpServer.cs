using System.Net;
using System.Net.Sockets;

namespace LatentLab.Tests;

/// <summary>
/// A small HTTP server on 127.0.0.1 for download tests: serves registered byte arrays, honours Range requests,
/// records what it was asked, and can cut a response short to simulate a dropped connection.
/// </summary>
public sealed class LocalHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private readonly Lock _gate = new();

    public LocalHttpServer()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>Every request as "GET /path" or "GET /path range=bytes=N-".</summary>
    public List<string> Requests { get; } = [];

    /// <summary>When set, the next response for this path sends only this many bytes and closes.</summary>
    public Dictionary<string, int> CutShort { get; } = new(StringComparer.Ordinal);

    public Uri Add(string path, byte[] content)
    {
        lock (_gate) _files[path] = content;
        return new Uri($"http://127.0.0.1:{Port}{path}");
    }

    /// <summary>An address on this machine where nothing listens.</summary>
    public static Uri Unreachable(string path) => new($"http://127.0.0.1:{FreePort()}{path}");

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                Respond(context);
            }
            catch (Exception error) when (error is HttpListenerException or IOException)
            {
                // The client went away; nothing to do.
            }
        }
    }

    private void Respond(HttpListenerContext context)
    {
        string path = context.Request.Url!.AbsolutePath;
        string? range = context.Request.Headers["Range"];
        byte[]? content;
        int cut = -1;
        lock (_gate)
        {
            Requests.Add(range == null ? $"GET {path}" : $"GET {path} range={range}");
            _files.TryGetValue(path, out content);
            if (CutShort.Remove(path, out int limit)) cut = limit;
        }
        HttpListenerResponse response = context.Response;
        if (content == null)
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }

        int start = 0;
        if (range != null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = int.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (start >= content.Length)
            {
                response.StatusCode = 416;
                response.Close();
                return;
            }
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }
        response.ContentLength64 = content.Length - start;
        int length = cut >= 0 ? Math.Min(cut, content.Length - start) : content.Length - start;
        response.OutputStream.Write(content, start, length);
        if (cut >= 0)
        {
            response.Abort();   // drop the connection mid-body
            return;
        }
        response.Close();
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
