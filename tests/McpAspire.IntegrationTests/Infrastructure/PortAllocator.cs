using System.Net;
using System.Net.Sockets;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Finds free TCP ports on 127.0.0.1.</summary>
public static class PortAllocator
{
    /// <summary>A port that was free a moment ago (the OS picks it; another process could still take it).</summary>
    public static int GetFreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
