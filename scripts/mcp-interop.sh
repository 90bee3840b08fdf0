#!/usr/bin/env bash
# MCP clients nobody here wrote agree with /mcp/{app_id}: the MCP Inspector CLI
# and a script on the official TypeScript SDK (scripts/mcp-interop/), run
# against a real `serve` with an application's API key. Each lists the tools
# and finds, with search_memories, a memory stored through the REST API.
#
# It builds the binary, uses its own database (dropped at exit), stream prefix
# (deleted at exit) and port, and the embedded Memory Bank. It needs Node 20+,
# npm, curl, psql and redis-cli, and PostgreSQL and Redis on 127.0.0.1
# (scripts/ensure-services.sh starts them).
#
# Environment knobs:
#   MCP_INTEROP_PORT     the port to serve on (default: one the kernel picks);
#                        the check fails at once when it is taken
#   MCP_INTEROP_TIMEOUT  seconds to wait for the server and the stored memory
#                        (default 60)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
clients="$PWD/scripts/mcp-interop"
TIMEOUT="${MCP_INTEROP_TIMEOUT:-60}"
INSPECTOR="@modelcontextprotocol/inspector-cli@1.0.3"

log() { printf 'mcp-interop: %s\n' "$*"; }
die() {
	printf 'mcp-interop: FAIL: %s\n' "$*" >&2
	exit 1
}

for tool in node npm curl psql redis-cli; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done

# Nothing of the caller's configuration may reach the server: this instance is
# wholly described below.
for v in "${!CUSTOM_GPT_@}"; do unset "$v"; done

suffix="$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
db="custom_gpt_interop_$suffix"
work="$(mktemp -d)"
server_pid=""
psql_admin=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres -d postgres)

export CUSTOM_GPT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export CUSTOM_GPT_REDIS_URL="redis://127.0.0.1:6379/0"
export CUSTOM_GPT_STREAM_PREFIX="custom_gpt_interop_$suffix"
CUSTOM_GPT_SECRETS_KEY="$(head -c 32 /dev/urandom | base64)"
export CUSTOM_GPT_SECRETS_KEY
export CUSTOM_GPT_LOG_LEVEL=warn

cleanup() {
	local rc=$?
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		# Graceful shutdown is bounded by the service itself; this bounds it too.
		local deadline=$((SECONDS + 30))
		while kill -0 "$server_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] && [ -s "$work/serve.log" ]; then
		echo "mcp-interop: the server's log:" >&2
		tail -n 50 "$work/serve.log" >&2
	fi
	"${psql_admin[@]}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
		echo "mcp-interop: could not drop database $db" >&2
	redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$CUSTOM_GPT_STREAM_PREFIX*" |
		xargs -r redis-cli -h 127.0.0.1 -p 6379 DEL >/dev/null 2>&1 || true
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json FILE FIELD: prints FIELD of the JSON object in FILE; fails when it is absent.
json() {
	node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
if (v === undefined || v === null) process.exit(3);
console.log(v);' "$1" "$2"
}

# can_listen PORT: whether 127.0.0.1:PORT is free to bind.
can_listen() {
	node -e 'const s = require("net").createServer();
s.once("error", () => process.exit(1)).listen(+process.argv[1], "127.0.0.1", () => s.close());' "$1"
}

if [ -n "${MCP_INTEROP_PORT:-}" ]; then
	port="$MCP_INTEROP_PORT"
else
	port="$(node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
fi
can_listen "$port" || die "port $port on 127.0.0.1 is taken (set MCP_INTEROP_PORT to a free one)"
export CUSTOM_GPT_HTTP_ADDR="127.0.0.1:$port"
base="http://127.0.0.1:$port"

log "building the binary"
go build -o "$work/custom-gpt-adapter" .
bin="$work/custom-gpt-adapter"

log "installing the clients (npm ci)"
npm ci --prefix "$clients" --no-audit --no-fund --loglevel=error >/dev/null

log "database $db, stream prefix $CUSTOM_GPT_STREAM_PREFIX, port $port"
"$bin" migrate >"$work/migrate.log" 2>&1 || {
	cat "$work/migrate.log" >&2
	die "migrate failed"
}
"$bin" apps create --name Interop >"$work/app.json"
app="$(json "$work/app.json" app_id)" || die "apps create printed no app_id"
key="$(json "$work/app.json" api_key)" || die "apps create printed no api_key"
"$bin" apps set-mcp "$app" --enable >/dev/null

"$bin" serve >"$work/serve.log" 2>&1 &
server_pid=$!

# until_deadline WHAT COMMAND...: polls COMMAND until it succeeds, failing the
# check after TIMEOUT seconds or as soon as the server has exited.
until_deadline() {
	local what="$1" deadline=$((SECONDS + TIMEOUT))
	shift
	until "$@"; do
		kill -0 "$server_pid" 2>/dev/null || die "the server exited while waiting for $what"
		((SECONDS < deadline)) || die "no $what within ${TIMEOUT}s"
		sleep 0.2
	done
}
healthy() { curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; }
until_deadline "/healthz on $base" healthy
log "serve answers on $base"

# The memory is stored through the REST API, so both clients read what another
# channel wrote; the suffix makes it this run's own.
memory="The interop check's user takes the night train to Vienna ($suffix)"
query="night train to Vienna"
node -e 'console.log(JSON.stringify({content: process.argv[1]}))' "$memory" >"$work/memory.json"
curl -fsS "$base/api/v1/memories" -H "Authorization: Bearer $key" \
	-H 'Content-Type: application/json' --data-binary @"$work/memory.json" >"$work/accepted.json" ||
	die "POST /api/v1/memories was refused"
operation="$(json "$work/accepted.json" operation_id)" || die "POST /api/v1/memories returned no operation_id"
stored() {
	curl -fsS "$base/api/v1/operations/$operation" -H "Authorization: Bearer $key" >"$work/operation.json" || return 1
	local status
	status="$(json "$work/operation.json" status)"
	[ "$status" != failed ] || die "the memory's operation failed: $(cat "$work/operation.json")"
	[ "$status" = succeeded ]
}
until_deadline "stored memory (operation $operation)" stored
log "memory stored (operation $operation)"

url="$base/mcp/$app"
# inspector METHOD [ARGS...]: the Inspector CLI's JSON answer on stdout.
# Where 1.0.3 falls short:
#   - the URL is its positional target: it takes --server-url but does not pass
#     it on in --cli mode; --transport http as the path does not end in /mcp;
#   - it reads its own package.json from ../ only when the working directory
#     has a ../package.json (modelcontextprotocol/inspector#1503), so it runs in
#     the clients' node_modules, where npx also finds the locked install.
inspector() {
	local method="$1"
	shift
	(cd "$clients/node_modules" && timeout 120 npx -y "$INSPECTOR" --cli "$url" --transport http \
		--header "Authorization: Bearer $key" --method "$method" "$@")
}

log "Inspector CLI: tools/list"
inspector tools/list >"$work/tools.json" || die "the Inspector CLI could not list the tools"
node "$clients/expect.mjs" tools <"$work/tools.json" || die "the Inspector CLI's tools/list"
log "Inspector CLI: tools/call search_memories"
inspector tools/call --tool-name search_memories --tool-arg "query=$query" >"$work/search.json" ||
	die "the Inspector CLI could not call search_memories"
node "$clients/expect.mjs" found "$memory" <"$work/search.json" || die "the Inspector CLI's search_memories"

log "TypeScript SDK client"
MCP_URL="$url" MCP_TOKEN="$key" MCP_QUERY="$query" MCP_EXPECT="$memory" \
	timeout 120 node "$clients/sdk-client.mjs" || die "the TypeScript SDK client"

log "passed: the Inspector CLI and the TypeScript SDK both list the tools and find the memory"
