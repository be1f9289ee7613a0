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
    private volatile bool _keepServerSessions;

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

    /// <summary>
    /// From now on a client that ends its connection ends only its own side: its goodbye (the protocol's Terminate message)
    /// is dropped and the server's session lives on until the proxy is disposed, as when the network path dies first and the
    /// server learns of it only from TCP keepalive, much later. Whatever such a session holds, it holds until then.
    /// </summary>
    public void KeepServerSessions() => _keepServerSessions = true;

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

            _ = PumpAsync(pair, client.GetStream(), server.GetStream(), answers: false, () => _keepServerSessions);
            _ = PumpAsync(pair, server.GetStream(), client.GetStream(), answers: true, () => false);
        }
    }

    private static async Task PumpAsync(Pair pair, NetworkStream from, NetworkStream to, bool answers, Func<bool> keepServer)
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

                var forward = read;
                if (keepServer() && buffer.AsSpan(0, read).EndsWith(Terminate))
                {
                    forward -= Terminate.Length;
                }

                await to.WriteAsync(buffer.AsMemory(0, forward));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The other side, or the test, closed the connection.
        }

        if (keepServer())
        {
            // The server's session is left open; the proxy's disposal ends it.
            pair.CloseClient();
            return;
        }

        pair.Close();
    }

    /// <summary>The frontend's Terminate message: 'X' and its length, 4.</summary>
    private static ReadOnlySpan<byte> Terminate => [(byte)'X', 0, 0, 0, 4];

    private sealed class Pair(TcpClient client, TcpClient server)
    {
        public bool LoseAnswer { get; set; }

        public void Close()
        {
            client.Dispose();
            server.Dispose();
        }

        public void CloseClient() => client.Dispose();
    }
}
