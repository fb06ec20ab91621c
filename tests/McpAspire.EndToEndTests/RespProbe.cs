using System.Net;
using System.Net.Sockets;
using System.Text;

namespace McpAspire.EndToEndTests;

/// <summary>Talks to a Redis-protocol server in plain RESP, to see what it holds and whom it lets in.</summary>
internal static class RespProbe
{
    /// <summary>Sends each command (words split on spaces) on one connection, then QUIT; returns everything the server answered.</summary>
    public static async Task<string> SendAsync(int port, params string[] commands)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(commands.Append("QUIT").Select(Encode))), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    private static string Encode(string command)
    {
        var words = command.Split(' ');
        return $"*{words.Length}\r\n" + string.Concat(words.Select(word => $"${Encoding.UTF8.GetByteCount(word)}\r\n{word}\r\n"));
    }
}
