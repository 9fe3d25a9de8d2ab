// The cost of the forwarder's reuse check: before a pooled connection carries another
// request, Http1Connection.IsIdleAndClean polls its socket once with a zero timeout. This times
// exactly that call on an idle loopback connection. Run: dotnet run -c Release bench/ReuseCheck/reuse-check.cs
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
client.Connect((IPEndPoint)listener.LocalEndpoint);
using var server = listener.AcceptSocket();
const int Calls = 1_000_000;
var best = double.MaxValue;
for (var round = 0; round < 5; round++)
{
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < Calls; i++)
    {
        if (!client.Connected || client.Poll(0, SelectMode.SelectRead))
        {
            throw new InvalidOperationException("an idle socket polled readable");
        }
    }

    best = Math.Min(best, clock.Elapsed.TotalNanoseconds / Calls);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reuse check (Connected + poll(0) on an idle loopback socket): {best:F0} ns per call (best of 5 x {Calls} calls)"));
listener.Stop();
