using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMcpCoordinator();

var app = builder.Build();

app.UseRateLimiter();
app.MapDefaultEndpoints();
app.MapMcpGateway();
app.MapClusterApi();

app.Run();
