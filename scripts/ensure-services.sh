#!/usr/bin/env bash
# Make sure a local PostgreSQL and Redis are accepting connections on
# 127.0.0.1 (used by `go tool task run|test|migrate` and by .ci/run).
#
# Idempotent: services that are already up are left alone.
#
# Environment knobs:
#   ENSURE_SERVICES_TIMEOUT  seconds to wait for each service (default 30)
#   PG_CLUSTER_VERSION       PostgreSQL cluster version under /etc/postgresql
#                            (default: the newest one found)
#   ENSURE_SERVICES_DB       database to create if missing (default: the one
#                            CUSTOM_GPT_DATABASE_URL names when it points at this
#                            PostgreSQL, else custom_gpt, the database of the
#                            default CUSTOM_GPT_DATABASE_URL); set to an empty
#                            string to skip
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_DATA_DIR=/var/lib/redis
REDIS_LOG_DIR=/var/log/redis
TIMEOUT="${ENSURE_SERVICES_TIMEOUT:-30}"

log() { printf 'ensure-services: %s\n' "$*"; }

# database_in_url URL: the database a postgres:// URL names on this
# PostgreSQL ($PG_HOST:$PG_PORT), or nothing when it names another server, no
# database, or is not a URL (a key=value DSN).
database_in_url() {
	local url="$1" rest hostport db
	case "$url" in
	postgres://* | postgresql://*) rest="${url#*://}" ;;
	*) return 0 ;;
	esac
	hostport="${rest%%/*}"
	hostport="${hostport##*@}"
	case "$hostport" in
	"$PG_HOST" | "$PG_HOST:$PG_PORT" | localhost | "localhost:$PG_PORT") ;;
	*) return 0 ;;
	esac
	[[ "$rest" == */* ]] || return 0
	db="${rest#*/}"
	printf '%s' "${db%%\?*}"
}

default_db() {
	if [ -z "${CUSTOM_GPT_DATABASE_URL:-}" ]; then
		printf 'custom_gpt'
		return
	fi
	local db
	db="$(database_in_url "$CUSTOM_GPT_DATABASE_URL")"
	if [ -z "$db" ]; then
		log "CUSTOM_GPT_DATABASE_URL names no database on $PG_HOST:$PG_PORT; creating none" >&2
	fi
	printf '%s' "$db"
}

DB_NAME="${ENSURE_SERVICES_DB-$(default_db)}"

die() {
	printf 'ensure-services: ERROR: %s\n' "$*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found in PATH; $2"
}

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

redis_ready() {
	local reply
	reply="$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null || true)"
	[ "$reply" = "PONG" ]
}

# wait_until NAME CHECK_FUNCTION: polls until CHECK_FUNCTION succeeds or
# TIMEOUT seconds have passed.
wait_until() {
	local name="$1" check="$2"
	local deadline=$((SECONDS + TIMEOUT))
	until "$check"; do
		if ((SECONDS >= deadline)); then
			return 1
		fi
		sleep 0.5
	done
	log "$name is ready"
}

ensure_postgres() {
	need pg_isready "install the PostgreSQL client tools"
	if pg_ready; then
		log "PostgreSQL already accepting connections on $PG_HOST:$PG_PORT"
		return
	fi

	need pg_ctlcluster "install postgresql-common or start PostgreSQL on $PG_HOST:$PG_PORT yourself"
	local version="${PG_CLUSTER_VERSION:-}"
	if [ -z "$version" ]; then
		if [ -d /etc/postgresql ]; then
			version="$(ls /etc/postgresql | sort -V | tail -n 1)"
		fi
	fi
	[ -n "$version" ] || die "PostgreSQL is not running on $PG_HOST:$PG_PORT and no cluster was found under /etc/postgresql"

	log "PostgreSQL not ready on $PG_HOST:$PG_PORT; starting cluster $version/main"
	# A non-zero exit here may only mean the cluster is already starting up;
	# the readiness poll below is the real check.
	if ! pg_ctlcluster --skip-systemctl-redirect "$version" main start; then
		log "warning: pg_ctlcluster $version main start exited non-zero; waiting for readiness anyway"
	fi

	if ! wait_until "PostgreSQL" pg_ready; then
		die "PostgreSQL did not become ready on $PG_HOST:$PG_PORT within ${TIMEOUT}s (see /var/log/postgresql/postgresql-$version-main.log)"
	fi
}

ensure_database() {
	[ -n "$DB_NAME" ] || return 0
	if ! command -v psql >/dev/null 2>&1; then
		log "psql not found; not checking that database '$DB_NAME' exists"
		return 0
	fi
	if ! [[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]]; then
		[ -z "${ENSURE_SERVICES_DB+set}" ] ||
			die "ENSURE_SERVICES_DB='$DB_NAME' is not a plain lowercase identifier"
		# `migrate` and CUSTOM_GPT_AUTO_MIGRATE create any name themselves.
		log "database '$DB_NAME' of CUSTOM_GPT_DATABASE_URL is not a plain lowercase identifier; not creating it"
		return 0
	fi

	local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres)
	local exists
	if ! exists="$("${psql[@]}" -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>&1)"; then
		log "warning: could not query databases as user postgres (${exists}); not creating '$DB_NAME'"
		return 0
	fi
	if [ "$exists" = "1" ]; then
		log "database '$DB_NAME' exists"
		return 0
	fi
	log "creating database '$DB_NAME'"
	"${psql[@]}" -c "CREATE DATABASE $DB_NAME" >/dev/null ||
		die "could not create database '$DB_NAME'"
}

ensure_redis() {
	need redis-cli "install the Redis tools"
	if redis_ready; then
		log "Redis already answering PING on $REDIS_HOST:$REDIS_PORT"
		return
	fi

	need redis-server "install Redis or start it on $REDIS_HOST:$REDIS_PORT yourself"
	log "Redis not answering on $REDIS_HOST:$REDIS_PORT; starting redis-server"
	mkdir -p "$REDIS_DATA_DIR" "$REDIS_LOG_DIR" ||
		die "cannot create $REDIS_DATA_DIR / $REDIS_LOG_DIR (run as a user that can, or start Redis yourself)"
	redis-server \
		--daemonize yes \
		--bind 127.0.0.1 -::1 \
		--port "$REDIS_PORT" \
		--save "" \
		--appendonly no \
		--dir "$REDIS_DATA_DIR" \
		--logfile "$REDIS_LOG_DIR/ci.log" ||
		die "redis-server failed to start (see $REDIS_LOG_DIR/ci.log)"

	if ! wait_until "Redis" redis_ready; then
		die "Redis did not answer PING on $REDIS_HOST:$REDIS_PORT within ${TIMEOUT}s (see $REDIS_LOG_DIR/ci.log)"
	fi
}

ensure_postgres
ensure_database
ensure_redis
