// The interop script: the official TypeScript MCP client lists the tools of an /mcp endpoint, calls
// echo, runs process_dataset with progress, then starts a long process_dataset and cancels it at its
// first progress notification. It then asks get_capabilities until no other call is in flight, to see
// whether the cancellation reached the tool. Prints one JSON line with what it saw; exits 1 on failure.
//   node progress-and-cancel.mjs http://127.0.0.1:5080/mcp
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url] = process.argv.slice(2);
if (!url) {
  console.error("usage: node progress-and-cancel.mjs <mcp-url>");
  process.exit(2);
}

const seen = {};
const transport = new StreamableHTTPClientTransport(new URL(url));
const client = new Client({ name: "mcpaspire-interop", version: "1.0.0" });
await client.connect(transport);
seen.protocolVersion = transport.protocolVersion ?? null;
seen.session = transport.sessionId !== undefined;

seen.tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
seen.echo = (await client.callTool({ name: "echo", arguments: { message: "hello from TypeScript" } })).content?.[0]?.text;

const progress = [];
const summary = await client.callTool(
  { name: "process_dataset", arguments: { count: 20, delayMs: 5 } },
  undefined,
  { onprogress: (value) => progress.push(value.progress) },
);
seen.progress = progress.length;
seen.progressInOrder = progress.every((value, i) => i === 0 || value >= progress[i - 1]);
seen.processed = summary.structuredContent?.count ?? null;

// A call of about 30 s, cancelled when its first progress notification arrives.
const abort = new AbortController();
const started = Date.now();
try {
  await client.callTool(
    { name: "process_dataset", arguments: { count: 3000, delayMs: 10 } },
    undefined,
    { signal: abort.signal, onprogress: () => abort.abort("the interop script cancels it") },
  );
  seen.cancelled = false;
} catch (error) {
  seen.cancelled = abort.signal.aborted;
  seen.cancelError = String(error?.message ?? error);
}
seen.cancelledAfterMs = Date.now() - started;

// Whether the tool stopped on the server: get_capabilities counts itself, so 1 means nothing else runs.
seen.stoppedOnServer = false;
for (let attempt = 0; attempt < 50 && !seen.stoppedOnServer; attempt++) {
  const load = (await client.callTool({ name: "get_capabilities", arguments: {} })).structuredContent?.load;
  seen.stoppedOnServer = load?.inFlight === 1;
  if (!seen.stoppedOnServer) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

if (seen.session) {
  await transport.terminateSession();
}
await client.close();
console.log(JSON.stringify(seen));

const ok = seen.echo === "hello from TypeScript" && seen.tools.includes("process_dataset") &&
  seen.progress >= 1 && seen.progressInOrder && seen.processed === 20 && seen.cancelled;
process.exit(ok ? 0 : 1);
