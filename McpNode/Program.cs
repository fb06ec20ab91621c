using McpAspire.McpNode;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMcpNode();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapMcp("/mcp").WithRequestGate();

app.Run();
