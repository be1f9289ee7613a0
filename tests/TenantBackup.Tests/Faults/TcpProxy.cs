using System.Net;
using System.Net.Sockets;

namespace TenantBackup.Tests.Faults;

/// <summary>
/// Forwards TCP connections on a local port to the suite's PostgreSQL, so that a test can break the connections a
/// <c>tenantbackup</c> process holds at a chosen moment, as a network failure would, while new ones still get through.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Pair> _pairs = [];
    private readonly Task _accepting;
    private volatile bool _refusing;

    private TcpProxy(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The local port to connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TcpProxy Start(string host, int port) => new(host, port);

    /// <summary>Closes every connection open now, both ends: the client and the server each see the other vanish.</summary>
    public void CutAll()
    {
        foreach (var pair in Current())
        {
            pair.Close();
        }
    }

    /// <summary>Closes each new connection at once, so the server looks unreachable, until <see cref="AcceptNew"/>.</summary>
    public void RefuseNew() => _refusing = true;

    /// <summary>Forwards new connections again.</summary>
    public void AcceptNew() => _refusing = false;

    /// <summary>
    /// The connections open now forward what the client sends, but the server's next answer is dropped and the connection
    /// closed: the request reaches the server, the client never learns what became of it.
    /// </summary>
    public void LoseNextAnswers()
    {
        foreach (var pair in Current())
        {
            pair.LoseAnswer = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutAll();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private List<Pair> Current()
    {
        lock (_pairs)
        {
            return [.. _pairs];
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            if (_refusing)
            {
                client.Dispose();
                continue;
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_host, _port, _stop.Token);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            var pair = new Pair(client, server);
            lock (_pairs)
            {
                _pairs.Add(pair);
            }

            _ = PumpAsync(pair, client.GetStream(), server.GetStream(), answers: false);
            _ = PumpAsync(pair, server.GetStream(), client.GetStream(), answers: true);
        }
    }

    private static async Task PumpAsync(Pair pair, NetworkStream from, NetworkStream to, bool answers)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer)) > 0)
            {
                if (answers && pair.LoseAnswer)
                {
                    break;
                }

                await to.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The other side, or the test, closed the connection.
        }

        pair.Close();
    }

    private sealed class Pair(TcpClient client, TcpClient server)
    {
        public bool LoseAnswer { get; set; }

        public void Close()
        {
            client.Dispose();
            server.Dispose();
        }
    }
}
