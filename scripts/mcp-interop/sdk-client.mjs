// A client on the official TypeScript SDK, as agents built on it connect:
// Streamable HTTP, the API key as a bearer token. It lists the tools and
// searches for a memory stored beforehand; it exits non-zero otherwise.
//
//   MCP_URL=http://127.0.0.1:8080/mcp/APP_ID MCP_TOKEN=cgpt_… \
//   MCP_QUERY='night trains' MCP_EXPECT='the stored memory' node sdk-client.mjs
import { env, exit } from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { expectFound, expectTools } from "./expect.mjs";

function need(name) {
  const v = env[name];
  if (!v) {
    throw new Error(`${name} is not set`);
  }
  return v;
}

async function main() {
  const url = new URL(need("MCP_URL"));
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { Authorization: `Bearer ${need("MCP_TOKEN")}` } },
  });
  const client = new Client({ name: "custom-gpt-adapter-interop", version: "1.0.0" });
  await client.connect(transport);
  try {
    const server = client.getServerVersion();
    console.log(`sdk-client: connected to ${server?.name} ${server?.version}`);

    expectTools(await client.listTools());
    console.log("sdk-client: tools/list names every tool");

    // callTool also checks structuredContent against the tool's outputSchema.
    const found = await client.callTool({ name: "search_memories", arguments: { query: need("MCP_QUERY") } });
    expectFound(found, need("MCP_EXPECT"));
    console.log("sdk-client: search_memories found the memory");
  } finally {
    await client.close();
  }
}

main().catch((err) => {
  console.error(`sdk-client: ${err?.message ?? err}`);
  exit(1);
});
