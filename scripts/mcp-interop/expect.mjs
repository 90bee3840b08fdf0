// What every MCP client of the interop check must have seen, so that the
// Inspector CLI and the TypeScript SDK script are judged by the same rules.
//
// As a command it judges the JSON the Inspector CLI printed, read from stdin:
//   node expect.mjs tools < tools-list.json
//   node expect.mjs found TEXT < tools-call.json
import { readFileSync } from "node:fs";
import { argv, exit } from "node:process";
import { fileURLToPath } from "node:url";

// The nine tools of /mcp/{app_id} (ports/mcp).
export const TOOLS = [
  "search_memories",
  "remember",
  "get_operation",
  "list_memories",
  "get_memory",
  "update_memory",
  "delete_memory",
  "forget_everything",
  "memory_history",
];

// expectTools throws unless a tools/list result names every tool.
export function expectTools(result) {
  const names = new Set((result?.tools ?? []).map((t) => t.name));
  const missing = TOOLS.filter((n) => !names.has(n));
  if (missing.length > 0) {
    throw new Error(`tools/list lacks ${missing.join(", ")}; it named ${[...names].join(", ") || "nothing"}`);
  }
}

// expectFound throws unless a search_memories result succeeded and its
// structured content holds text (its text content is only a short summary).
export function expectFound(result, text) {
  if (result?.isError) {
    throw new Error(`search_memories failed: ${JSON.stringify(result.content)}`);
  }
  const hits = result?.structuredContent?.results ?? [];
  if (!hits.some((h) => h.content === text)) {
    throw new Error(`search_memories did not find ${JSON.stringify(text)}: ${JSON.stringify(result)}`);
  }
}

if (argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, text] = argv.slice(2);
  try {
    const result = JSON.parse(readFileSync(0, "utf8"));
    if (mode === "tools") {
      expectTools(result);
    } else if (mode === "found" && text) {
      expectFound(result, text);
    } else {
      throw new Error("usage: node expect.mjs tools | found TEXT  (JSON on stdin)");
    }
  } catch (err) {
    console.error(`expect ${mode}: ${err.message}`);
    exit(1);
  }
}
