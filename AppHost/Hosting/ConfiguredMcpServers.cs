using Microsoft.Extensions.Configuration;

namespace McpAspire.AppHost.Hosting;

/// <summary>
/// The MCP servers the AppHost puts behind the coordinator from its own configuration (<c>McpServers:{name}</c> in
/// <c>AppHost/appsettings.json</c>, or <c>--McpServers:{name}:...</c> on its command line), so no code changes to add
/// one. Each is a URL (<c>Url</c>), or a command the AppHost runs (<c>Command</c>, <c>Args</c>, <c>Env</c>,
/// <c>WorkingDirectory</c>) that speaks Streamable HTTP (<c>Transport=http</c>, the default, told its port, <c>Port</c>
/// or one chosen, in <c>PortVariable</c>, serving at <c>Path</c>) or stdio (<c>Transport=stdio</c>, run by a bridge node). <c>Prefix</c>
/// goes before its tool and prompt names.
/// </summary>
public sealed class ConfiguredMcpServers
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "McpServers";

    private ConfiguredMcpServers(IReadOnlyList<McpServerSpec> servers) => Servers = servers;

    /// <summary>The servers, in name order.</summary>
    public IReadOnlyList<McpServerSpec> Servers { get; }

    /// <summary>Reads and checks the section.</summary>
    /// <exception cref="ArgumentException">A server is not valid; the message names the key.</exception>
    public static ConfiguredMcpServers Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var servers = new List<McpServerSpec>();
        foreach (var section in configuration.GetSection(SectionName).GetChildren().OrderBy(section => section.Key, StringComparer.Ordinal))
        {
            var key = $"{SectionName}:{section.Key}";
            if (section.Key.Length is 0 or > 48 || !section.Key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || !char.IsAsciiLetter(section.Key[0]))
            {
                throw new ArgumentException($"{key}: a server's name is 1-48 letters, digits or '-', starting with a letter (it names a resource and a configuration key).");
            }

            var url = section["Url"];
            var command = section["Command"];
            if ((url is null) == (command is null))
            {
                throw new ArgumentException($"{key} needs either Url (a server that runs elsewhere) or Command (one the AppHost runs), not {(url is null ? "neither" : "both")}.");
            }

            Uri? mcpUrl = null;
            if (url is not null && (!Uri.TryCreate(url, UriKind.Absolute, out mcpUrl) || mcpUrl.Scheme is not ("http" or "https")))
            {
                throw new ArgumentException($"{key}:Url '{url}' is not an absolute http or https URL.");
            }

            int? port = null;
            if (section["Port"] is { } text)
            {
                port = int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 65535
                    ? value
                    : throw new ArgumentException($"{key}:Port must be a whole number from 1 to 65535, not '{text}'.");
            }

            var transport = section["Transport"] ?? "http";
            if (transport is not ("http" or "stdio"))
            {
                throw new ArgumentException($"{key}:Transport is 'http' or 'stdio', not '{transport}'.");
            }

            servers.Add(new McpServerSpec(
                section.Key,
                mcpUrl,
                command,
                [.. section.GetSection("Args").GetChildren().OrderBy(arg => int.TryParse(arg.Key, out var n) ? n : int.MaxValue).Select(arg => arg.Value ?? string.Empty)],
                section.GetSection("Env").GetChildren().ToDictionary(variable => variable.Key, variable => variable.Value ?? string.Empty, StringComparer.Ordinal),
                transport == "stdio",
                section["PortVariable"] ?? "PORT",
                section["Path"] ?? McpServiceBuilderExtensions.McpPath,
                section["WorkingDirectory"],
                section["Prefix"],
                port));
        }

        return new ConfiguredMcpServers(servers);
    }

    /// <summary>
    /// Adds each server and has <paramref name="coordinator"/> serve its tools. Servers the AppHost runs from a command
    /// are for the local run; a published application (azd) gets only the servers given by URL.
    /// </summary>
    public void AddTo(
        IDistributedApplicationBuilder builder,
        IResourceBuilder<ProjectResource> coordinator,
        IResourceBuilder<IResourceWithConnectionString> store,
        IResourceBuilder<ParameterResource> clusterKey)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var server in Servers)
        {
            if (server.McpUrl is { } url)
            {
                coordinator.WithExternalMcpServer(builder.AddExternalMcpServer(server.Name, url), server.Prefix);
                continue;
            }

            if (builder.ExecutionContext.IsPublishMode)
            {
                continue;
            }

            if (server.IsStdio)
            {
                var bridge = builder.AddStdioMcpServer(server.Name, store, clusterKey, server.Command!, server.Args);
                if (server.Prefix is { } prefix)
                {
                    bridge.WithEnvironment("Stdio__Prefix", prefix);
                }

                foreach (var (name, value) in server.Env)
                {
                    bridge.WithEnvironment($"Stdio__Env__{name}", value);
                }

                if (server.WorkingDirectory is { } directory)
                {
                    bridge.WithEnvironment("Stdio__WorkingDirectory", Path.GetFullPath(directory, builder.AppHostDirectory));
                }

                continue;
            }

            var http = builder.AddHttpMcpServer(
                server.Name, server.Command!, server.Args, server.PortVariable, server.Path, server.WorkingDirectory is { } working ? Path.GetFullPath(working, builder.AppHostDirectory) : null, server.Port);
            foreach (var (name, value) in server.Env)
            {
                http.WithEnvironment(name, value);
            }

            coordinator.WithExternalMcpServer(http, server.Prefix);
        }
    }
}

/// <summary>One server of <see cref="ConfiguredMcpServers"/>.</summary>
/// <param name="Name">Its name: the resource's and the key's in <c>Coordinator:Servers</c>.</param>
/// <param name="McpUrl">Where it runs, when the AppHost does not run it.</param>
/// <param name="Command">What the AppHost runs, when it does.</param>
/// <param name="Args">The command's arguments.</param>
/// <param name="Env">The command's environment variables.</param>
/// <param name="IsStdio">Whether it speaks stdio, and runs in a bridge node.</param>
/// <param name="PortVariable">The variable an HTTP server is told its port in.</param>
/// <param name="Path">Where an HTTP server serves MCP.</param>
/// <param name="WorkingDirectory">The command's working directory, relative to the AppHost's.</param>
/// <param name="Prefix">Put before its tool and prompt names.</param>
/// <param name="Port">The port an HTTP server the AppHost runs listens on; one is chosen when not set.</param>
public sealed record McpServerSpec(
    string Name,
    Uri? McpUrl,
    string? Command,
    IReadOnlyList<string> Args,
    IReadOnlyDictionary<string, string> Env,
    bool IsStdio,
    string PortVariable,
    string Path,
    string? WorkingDirectory,
    string? Prefix,
    int? Port);
