#!/usr/bin/env bash
# The restore drill (docs/operations.md, "Backups and restore"): back up
# PostgreSQL and Redis, lose both, restore both, and check that everything
# came back and the service runs on it.
#
#   1. seed: build the binary, `migrate`, two applications (`apps create`),
#      and through `serve` with the embedded Memory Bank: creates, an update,
#      a delete and a search each, every operation waited for until it ends;
#   2. back up: `pg_dump -Fc` of the database; `redis-cli --rdb` of Redis;
#   3. wipe: DROP and CREATE the database; kill Redis and delete its data;
#   4. restore: `pg_restore`; Redis from the RDB file, its append-only file
#      rewritten from it, then restarted from that file alone;
#   5. verify: every table's rows (count and md5 of the rows in order), the
#      sequences, triggers and indexes; every stream's entries, consumer
#      groups and pending entries; `audit verify` (the hash chains); then
#      `serve` on what was restored answers the old operations, lists the
#      memories and accepts a new write, and the chain still verifies.
#
# Redis is the drill's own: a redis-server with an append-only file (fsync
# always, as compose.yaml runs it) on a Unix socket in the drill's directory.
# It is restarted twice, and a TCP port could meanwhile go to another server.
#
# Needs go, psql, pg_dump, pg_restore, redis-server, redis-cli and curl, and
# PostgreSQL on 127.0.0.1 (scripts/ensure-services.sh starts it).
#
# Environment knobs:
#   RESTORE_DRILL_DATABASE_URL  drill this database instead (not seeded, and
#                               no `serve` on it): it is dropped and restored
#                               in place, so RESTORE_DRILL_CONFIRM=drop must be
#                               set too. Default: a scratch database on
#                               127.0.0.1:5432, dropped at the end
#   RESTORE_DRILL_TIMEOUT       seconds to wait for each step (default 60)
#   RESTORE_DRILL_KEEP          1: keep the backups, snapshots and logs (the
#                               directory is printed)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TIMEOUT="${RESTORE_DRILL_TIMEOUT:-60}"

log() { printf 'restore-drill: %s\n' "$*"; }
die() {
	printf 'restore-drill: FAIL: %s\n' "$*" >&2
	exit 1
}

for tool in go psql pg_dump pg_restore redis-server redis-cli curl; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done

given_url="${RESTORE_DRILL_DATABASE_URL:-}"
if [ -n "$given_url" ] && [ "${RESTORE_DRILL_CONFIRM:-}" != drop ]; then
	die "RESTORE_DRILL_DATABASE_URL is dropped and restored in place: set RESTORE_DRILL_CONFIRM=drop to go on"
fi

# Nothing of the caller's configuration may reach the processes: this
# instance is wholly described below.
for v in "${!CUSTOM_GPT_@}"; do unset "$v"; done

suffix="$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
work="$(mktemp -d "${TMPDIR:-/tmp}/restore-drill.XXXXXX")"
mkdir -p "$work/backup" "$work/redis"
bin="$work/custom-gpt-adapter"
sock="$work/redis/redis.sock"
redis_pid=""
server_pid=""
created_db=""

if [ -n "$given_url" ]; then
	db_url="$given_url"
else
	created_db="restore_drill_$suffix"
	db_url="postgres://postgres@127.0.0.1:5432/$created_db?sslmode=disable"
fi
case "$db_url" in
postgres://*/* | postgresql://*/*) ;;
*) die "the database URL must be a postgres:// URL naming a database" ;;
esac
# The same server's maintenance database, for DROP and CREATE.
db_path="${db_url%%\?*}"
db_name="${db_path##*/}"
admin_url="${db_path%/*}/postgres${db_url#"$db_path"}"
[[ "$db_name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name '$db_name' is not a plain identifier"

# Timestamps print in UTC, whoever runs the drill: the snapshots compare text.
export PGTZ=UTC
psql_db=(psql -X -q -v ON_ERROR_STOP=1 -At -d "$db_url")
psql_admin=(psql -X -q -v ON_ERROR_STOP=1 -At -d "$admin_url")
rcli=(redis-cli -s "$sock")

export CUSTOM_GPT_DATABASE_URL="$db_url"
export CUSTOM_GPT_REDIS_URL="unix://$sock?db=0"
export CUSTOM_GPT_STREAM_PREFIX="restore_drill_$suffix"
CUSTOM_GPT_SECRETS_KEY="$(head -c 32 /dev/urandom | base64)"
export CUSTOM_GPT_SECRETS_KEY
export CUSTOM_GPT_LOG_LEVEL=warn

stop_pid() {
	local pid="$1"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	stop_pid "$server_pid"
	if [ "$rc" -ne 0 ]; then
		for f in "$work"/serve*.log "$work/redis.log"; do
			[ -s "$f" ] || continue
			echo "restore-drill: the end of $f:" >&2
			tail -n 30 "$f" >&2
		done
	fi
	stop_pid "$redis_pid"
	if [ -n "$created_db" ]; then
		"${psql_admin[@]}" -c "DROP DATABASE IF EXISTS $created_db WITH (FORCE)" >/dev/null 2>&1 ||
			echo "restore-drill: could not drop database $created_db" >&2
	fi
	if [ "${RESTORE_DRILL_KEEP:-}" = 1 ]; then
		echo "restore-drill: kept $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# until_deadline WHAT COMMAND...: polls COMMAND until it succeeds, failing
# after TIMEOUT seconds.
until_deadline() {
	local what="$1" deadline=$((SECONDS + TIMEOUT))
	shift
	until "$@"; do
		((SECONDS < deadline)) || die "no $what within ${TIMEOUT}s"
		sleep 0.1
	done
}

# json_field FIELD: the string FIELD of the one-line JSON object on stdin
# (ids, keys and statuses: no escapes in them).
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# ---- Redis -------------------------------------------------------------------

# start_redis ARGS...: the drill's redis-server on its socket, with ARGS.
start_redis() {
	redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$work/redis" \
		--save "" --logfile "$work/redis.log" "$@" &
	redis_pid=$!
	until_deadline "Redis on $sock" redis_answers
}
# PONG, not LOADING: the dataset is in memory.
redis_answers() {
	kill -0 "$redis_pid" 2>/dev/null || die "redis-server exited (see $work/redis.log)"
	[ "$("${rcli[@]}" ping 2>/dev/null)" = PONG ]
}
persistent=(--appendonly yes --appendfsync always --maxmemory-policy noeviction)

# ---- snapshots ---------------------------------------------------------------

# pg_snapshot FILE: every table's row count and the md5 of its rows in order,
# the sequences, triggers and indexes.
pg_snapshot() {
	local table
	{
		for table in $("${psql_db[@]}" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
			printf '%s ' "$table"
			"${psql_db[@]}" -F ' ' -c "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM public.$table t"
		done
		"${psql_db[@]}" -F ' ' -c "SELECT 'sequence', sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 2"
		"${psql_db[@]}" -F ' ' -c "SELECT 'trigger', tgrelid::regclass, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 2, 3"
		"${psql_db[@]}" -F ' ' -c "SELECT 'index', tablename, indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2, 3"
	} >"$1"
}

# rows TABLE: the row count of TABLE in a snapshot on stdin.
rows() { awk -v t="$1" '$1 == t { print $2 }'; }

# redis_snapshot FILE: every stream's entries, consumer groups and pending
# entries, and the keys without an expiry (rate-limit budgets expire, and
# would be gone by themselves).
redis_snapshot() {
	local key group
	{
		for key in $("${rcli[@]}" --scan | sort); do
			[ "$("${rcli[@]}" ttl "$key")" = -1 ] || continue
			printf 'key %s %s\n' "$key" "$("${rcli[@]}" type "$key")"
			[ "$("${rcli[@]}" type "$key")" = stream ] || continue
			"${rcli[@]}" xrange "$key" - +
			"${rcli[@]}" xinfo groups "$key"
			for group in $("${rcli[@]}" xinfo groups "$key" | awk 'prev == "name" { print } { prev = $0 }'); do
				"${rcli[@]}" xpending "$key" "$group"
			done
		done
	} >"$1"
}

# ---- the service -------------------------------------------------------------

base=""
# start_serve LOG: serve on a port the kernel picks, read from its log.
start_serve() {
	local out="$1"
	CUSTOM_GPT_HTTP_ADDR=127.0.0.1:0 CUSTOM_GPT_LOG_LEVEL=info "$bin" serve >"$out" 2>&1 &
	server_pid=$!
	listening() {
		kill -0 "$server_pid" 2>/dev/null || die "serve exited (see $out)"
		base="$(sed -n 's/.*"msg":"http listening","addr":"\([^"]*\)".*/http:\/\/\1/p' "$out")"
		[ -n "$base" ]
	}
	until_deadline "serve listening" listening
}
stop_serve() {
	stop_pid "$server_pid"
	server_pid=""
}

# call KEY METHOD PATH [BODY]: the answer's body; fails on a status >= 400.
call() {
	local key="$1" method="$2" path="$3" body="${4:-}"
	local args=(-fsS -X "$method" "$base$path" -H "Authorization: Bearer $key")
	[ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" || die "$method $path was refused"
}

# ended KEY OPERATION: the operation is succeeded (fails the drill if it failed).
ended() {
	local status
	status="$(call "$1" GET "/api/v1/operations/$2" | json_field status)"
	[ "$status" != failed ] || die "operation $2 failed"
	[ "$status" = succeeded ]
}

# write KEY METHOD PATH [BODY]: a write, waited for until it succeeded; prints
# its operation's memory id (if any).
write() {
	local op
	op="$(call "$@" | json_field operation_id)"
	[ -n "$op" ] || die "$2 $3 answered no operation_id"
	until_deadline "end of operation $op" ended "$1" "$op"
	call "$1" GET "/api/v1/operations/$op" | sed -n 's/.*"memory_ids":\["\([^"]*\)".*/\1/p'
}

# ---- 1. seed -----------------------------------------------------------------

log "building the binary"
go build -o "$bin" .

start_redis "${persistent[@]}"
log "Redis on $sock; stream prefix $CUSTOM_GPT_STREAM_PREFIX"

keys=()
if [ -n "$created_db" ]; then
	"${psql_admin[@]}" -c "CREATE DATABASE $created_db"
	log "database $created_db: seeding it"
	"$bin" migrate >"$work/migrate.log" 2>&1 || die "migrate failed: $(cat "$work/migrate.log")"
	start_serve "$work/serve-seed.log"
	for app in Alpha Beta; do
		key="$("$bin" apps create --name "Drill $app" | json_field api_key)"
		[ -n "$key" ] || die "apps create printed no api_key"
		keys+=("$key")
		first="$(write "$key" POST /api/v1/memories "{\"content\":\"$app prefers the aisle seat\",\"metadata\":{\"topic\":\"travel\"}}")"
		second="$(write "$key" POST /api/v1/memories "{\"content\":\"$app takes the night train to Vienna\"}")"
		write "$key" POST /api/v1/memories "{\"content\":\"$app drinks green tea\"}" >/dev/null
		write "$key" PATCH "/api/v1/memories/$first" "{\"content\":\"$app prefers the window seat\"}" >/dev/null
		write "$key" DELETE "/api/v1/memories/$second" >/dev/null
		call "$key" POST /api/v1/search '{"query":"seat"}' >/dev/null
	done
	stop_serve
else
	log "database $db_name of RESTORE_DRILL_DATABASE_URL: drilled as it is"
fi

pg_snapshot "$work/pg-before.txt"
redis_snapshot "$work/redis-before.txt"
if [ -n "$created_db" ]; then
	for table in custom_gpt_operations custom_gpt_audit_entries custom_gpt_audit_chain custom_gpt_memories; do
		n="$(rows "$table" <"$work/pg-before.txt")"
		[ "${n:-0}" -gt 0 ] || die "the seed left $table empty: the drill would prove nothing"
	done
	grep -q '^key .* stream$' "$work/redis-before.txt" || die "the seed left no stream in Redis"
fi
log "before: $(rows custom_gpt_operations <"$work/pg-before.txt") operations, $(rows custom_gpt_audit_entries <"$work/pg-before.txt") audit entries, $(rows custom_gpt_audit_chain <"$work/pg-before.txt") chain links, $(rows custom_gpt_memories <"$work/pg-before.txt") registered memories, $(grep -c '^key .* stream$' "$work/redis-before.txt" || true) streams"

# ---- 2. back up --------------------------------------------------------------

pg_dump -Fc -f "$work/backup/database.dump" -d "$db_url"
"${rcli[@]}" --rdb "$work/backup/redis.rdb" >/dev/null 2>&1 || die "redis-cli --rdb failed"
log "backed up: $(wc -c <"$work/backup/database.dump") bytes of pg_dump, $(wc -c <"$work/backup/redis.rdb") bytes of RDB"

# ---- 3. wipe -----------------------------------------------------------------

"${psql_admin[@]}" -c "DROP DATABASE $db_name WITH (FORCE)"
"${psql_admin[@]}" -c "CREATE DATABASE $db_name"
[ "$("${psql_db[@]}" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] ||
	die "the recreated database is not empty"
stop_pid "$redis_pid"
rm -rf "${work:?}/redis"
mkdir -p "$work/redis"
log "wiped: database dropped and created empty, Redis killed and its data deleted"

# ---- 4. restore --------------------------------------------------------------

pg_restore --exit-on-error -d "$db_url" "$work/backup/database.dump"

# Redis loads an RDB file only with the append-only file off; turned on while
# running, it writes the append-only file from what is in memory. The restart
# after that reads the append-only file alone, as production would.
cp "$work/backup/redis.rdb" "$work/redis/dump.rdb"
start_redis --appendonly no --maxmemory-policy noeviction
"${rcli[@]}" config set appendonly yes >/dev/null
"${rcli[@]}" config set appendfsync always >/dev/null
aof_written() {
	local info
	info="$("${rcli[@]}" info persistence | tr -d '\r')"
	grep -qx 'aof_enabled:1' <<<"$info" &&
		grep -qx 'aof_rewrite_in_progress:0' <<<"$info" &&
		grep -qx 'aof_rewrite_scheduled:0' <<<"$info" &&
		grep -qx 'aof_last_bgrewrite_status:ok' <<<"$info"
}
until_deadline "append-only file written from the RDB" aof_written
stop_pid "$redis_pid"
rm -f "$work/redis/dump.rdb"
start_redis "${persistent[@]}"
log "restored: pg_restore done; Redis back from its append-only file"

# ---- 5. verify ---------------------------------------------------------------

pg_snapshot "$work/pg-after.txt"
redis_snapshot "$work/redis-after.txt"
diff -u "$work/pg-before.txt" "$work/pg-after.txt" >&2 || die "PostgreSQL did not come back as it was (diff above)"
diff -u "$work/redis-before.txt" "$work/redis-after.txt" >&2 || die "Redis did not come back as it was (diff above)"
log "verified: $(grep -vc '^\(sequence\|trigger\|index\) ' "$work/pg-after.txt") tables row for row, sequences, triggers and indexes; every stream, consumer group and pending entry"

"$bin" audit verify >"$work/audit-verify.json" 2>&1 || die "audit verify after the restore: $(cat "$work/audit-verify.json")"
log "audit verify: every hash chain intact"

if [ -n "$created_db" ]; then
	start_serve "$work/serve-restored.log"
	for key in "${keys[@]}"; do
		n="$(call "$key" GET /api/v1/memories | grep -o '"memory_id"' | wc -l | tr -d ' ')"
		[ "$n" = 2 ] || die "serve on the restored data lists $n memories of an application, want 2"
		write "$key" POST /api/v1/memories '{"content":"written after the restore"}' >/dev/null
	done
	stop_serve
	"$bin" audit verify >"$work/audit-verify.json" 2>&1 || die "audit verify after writing on the restored data: $(cat "$work/audit-verify.json")"
	log "serve on the restored data: the API keys work, the memories are listed, new writes succeed and chain on"
fi

log "passed"
