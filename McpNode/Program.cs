using McpAspire.McpNode;
using McpAspire.McpNode.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMcpNode();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapMcp("/mcp").WithRequestGate().RequireClusterCredential();

app.Run();
