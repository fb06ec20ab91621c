using System.Net;
using System.Net.Sockets;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Finds free TCP ports on 127.0.0.1, and one where nothing ever listens.</summary>
public static class PortAllocator
{
    /// <summary>
    /// A port on 127.0.0.1 that refuses every connection, for an address that must stay dead for the whole test. A port
    /// from <see cref="GetFreePort"/> will not do: once released, the OS may give it to the next server any test starts,
    /// and a call meant to fail at once would then reach that server. This one is below 1024, where no server started on
    /// port 0 is ever put, and nothing on a test machine serves it (it is tcpmux's, which nobody runs).
    /// </summary>
    public const int RefusingPort = 1;

    /// <summary>A port that was free a moment ago (the OS picks it; another process could still take it).</summary>
    public static int GetFreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
