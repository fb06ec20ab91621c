using McpAspire.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

ClusterSwitches switches;
ConfiguredMcpServers servers;
IResourceBuilder<IResourceWithConnectionString> store;
try
{
    switches = ClusterSwitches.Read(builder.Configuration);
    servers = ConfiguredMcpServers.Read(builder.Configuration);
    store = builder.AddStore("redis", switches.Store);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

var clusterKey = builder.AddClusterKey("cluster-key");
var coordinator = builder.AddCoordinator("coordinator", switches.CoordinatorPort, store, clusterKey, builder.AddSessionKey("session-key"));
builder.AddNodes(switches.Nodes, store, clusterKey);
servers.AddTo(builder, coordinator, store, clusterKey);

await builder.Build().RunAsync();
return 0;
