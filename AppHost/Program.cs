using McpAspire.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

ClusterSwitches switches;
IResourceBuilder<IResourceWithConnectionString> store;
try
{
    switches = ClusterSwitches.Read(builder.Configuration);
    store = builder.AddStore("redis", switches.Store);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

builder.AddCoordinator("coordinator", switches.CoordinatorPort, store, builder.AddSessionKey("session-key"));
builder.AddNodes(switches.Nodes, store);

await builder.Build().RunAsync();
return 0;
