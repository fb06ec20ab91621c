// Points the official TypeScript MCP client at an /mcp endpoint: lists the tools, calls echo,
// and calls get_capabilities repeatedly to see which nodes answer: [calls] times, or until
// [until-nodes] different nodes have answered. Prints one JSON line with what it saw; exits non-zero
// on any failure. With MCP_BEARER_TOKEN set, every request carries it as "Authorization: Bearer <token>".
//   node list-and-echo.mjs http://127.0.0.1:5080/mcp [calls] [until-nodes]
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, callsArg = "20", untilNodesArg = "Infinity"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node list-and-echo.mjs <mcp-url> [calls] [until-nodes]");
  process.exit(2);
}

const client = new Client({ name: "mcpaspire-interop", version: "1.0.0" });
const token = process.env.MCP_BEARER_TOKEN;
const options = token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : undefined;
await client.connect(new StreamableHTTPClientTransport(new URL(url), options));

const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
const echo = await client.callTool({ name: "echo", arguments: { message: "hello from TypeScript" } });
const echoText = echo.content?.[0]?.text;

const nodes = new Set();
for (let i = 0; i < Number(callsArg) && nodes.size < Number(untilNodesArg); i++) {
  const capabilities = await client.callTool({ name: "get_capabilities", arguments: {} });
  nodes.add(capabilities.structuredContent?.nodeId);
}

await client.close();
console.log(JSON.stringify({ tools, echo: echoText, nodes: [...nodes].sort() }));
if (echoText !== "hello from TypeScript" || !tools.includes("echo") || !tools.includes("get_capabilities")) {
  process.exit(1);
}
