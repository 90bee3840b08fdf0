#!/usr/bin/env bash
# Make sure a PostgreSQL and a Redis are accepting connections on 127.0.0.1
# (used by `go tool task run|test|migrate` and by .ci/run), on a machine that
# may have nothing but Go.
#
# For each one that does not answer, in this order:
#   1. installed but stopped: start it (a Debian cluster with pg_ctlcluster,
#      redis-server as a daemon);
#   2. Docker with the compose plugin, its daemon answering: start the
#      postgres and redis services of compose.yaml, published on 127.0.0.1
#      by compose.dev.yaml (project custom-gpt-adapter-dev, its own volumes);
#   3. install and start it: apt-get on Debian and Ubuntu (as root, or with
#      sudo that needs no password), Homebrew on macOS; local connections as
#      user postgres are trusted, as the default CUSTOM_GPT_DATABASE_URL needs;
#   4. otherwise stop, naming the one command to run.
# Then the database the URL names is created if missing.
#
# Idempotent, and silent when everything runs already.
#
# Environment knobs:
#   ENSURE_SERVICES_TIMEOUT     seconds to wait for each service (default 30)
#   ENSURE_SERVICES_DOCKER_TIMEOUT  seconds a Docker daemon has to answer
#                               docker info, where timeout(1) exists (default 10)
#   PG_CLUSTER_VERSION          PostgreSQL cluster version under /etc/postgresql
#                               (default: the newest one found)
#   ENSURE_SERVICES_DB          database to create if missing (default: the one
#                               CUSTOM_GPT_DATABASE_URL names when it points at
#                               this PostgreSQL, else custom_gpt, the database of
#                               the default CUSTOM_GPT_DATABASE_URL); set to an
#                               empty string to skip
#   ENSURE_SERVICES_DRY_RUN     1: print what would be done, change nothing
#   ENSURE_SERVICES_PG_PORT     ports the services are looked for on (default
#   ENSURE_SERVICES_REDIS_PORT  5432 and 6379); what is started listens on the
#                               defaults, so set these only to test the plan
set -euo pipefail

# No dirname: on a bare machine, and under the plan's test, builtins only.
src="${BASH_SOURCE[0]}"
[[ "$src" == */* ]] || src="./$src"
ROOT="$(cd "${src%/*}/.." && pwd)"
PG_HOST=127.0.0.1
PG_PORT="${ENSURE_SERVICES_PG_PORT:-5432}"
REDIS_HOST=127.0.0.1
REDIS_PORT="${ENSURE_SERVICES_REDIS_PORT:-6379}"
REDIS_DATA_DIR=/var/lib/redis
REDIS_LOG_DIR=/var/log/redis
TIMEOUT="${ENSURE_SERVICES_TIMEOUT:-30}"
DOCKER_TIMEOUT="${ENSURE_SERVICES_DOCKER_TIMEOUT:-10}"
DRY_RUN="${ENSURE_SERVICES_DRY_RUN:-0}"
# Homebrew's PostgreSQL formula; keg-only, so its tools are not on PATH.
BREW_PG=postgresql@17
# Marks the lines this script adds to a pg_hba.conf it installed.
HBA_MARK="added by scripts/ensure-services.sh of custom-gpt-adapter"

log() { printf 'ensure-services: %s\n' "$*"; }

die() {
	printf 'ensure-services: ERROR: %s\n' "$*" >&2
	exit 1
}

dry_run() { [ "$DRY_RUN" = 1 ]; }

# quoted ARG...: the arguments as a shell would need them typed (no ${@Q}:
# macOS ships bash 3.2).
quoted() {
	local arg out=""
	for arg in "$@"; do
		case "$arg" in
		"" | *[[:space:]\"\$\#\;\&\|\<\>\(\)\*]*) arg="'$arg'" ;;
		esac
		out="$out${out:+ }$arg"
	done
	printf '%s' "$out"
}

# act COMMAND...: runs COMMAND, or in a dry run only says it would.
act() {
	if dry_run; then
		log "would run: $(quoted "$@")"
		return 0
	fi
	log "running: $(quoted "$@")"
	"$@"
}

have() { command -v "$1" >/dev/null 2>&1; }

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

# ---- is it there? ------------------------------------------------------------
# Neither check needs a client installed: on a bare machine there is none.

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pg_ready() {
	if have pg_isready; then
		pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1
	else
		tcp_open "$PG_HOST" "$PG_PORT"
	fi
}

# redis_ready: PING over bash's /dev/tcp answers +PONG (not -LOADING).
redis_ready() {
	local reply
	reply="$(
		exec 2>/dev/null
		exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT"
		printf 'PING\r\n' >&3
		IFS= read -r -t 2 line <&3
		printf '%s' "$line"
	)" || return 1
	[ "${reply%$'\r'}" = "+PONG" ]
}

# wait_until NAME CHECK_FUNCTION: polls until CHECK_FUNCTION succeeds or
# TIMEOUT seconds have passed.
wait_until() {
	local name="$1" check="$2"
	dry_run && return 0
	local deadline=$((SECONDS + TIMEOUT))
	until "$check"; do
		if ((SECONDS >= deadline)); then
			return 1
		fi
		sleep 0.5
	done
	log "$name is ready"
}

# ---- what may this machine do? -----------------------------------------------

is_root() { [ "$EUID" -eq 0 ]; }

# as_root COMMAND...: COMMAND as root when sudo allows it without a password,
# else as this user (who may own what it touches).
as_root() {
	if is_root || ! sudo_ok; then
		act "$@"
	else
		act sudo -n "$@"
	fi
}

sudo_ok() { have sudo && sudo -n true >/dev/null 2>&1; }

os() { uname -s 2>/dev/null || echo unknown; }

# docker info asks the daemon, which may not answer at all (a stopped Docker
# Desktop, a stale socket): bounded where timeout(1) exists, so the plan
# moves on to the next way instead of hanging.
docker_usable() {
	have docker && docker compose version >/dev/null 2>&1 || return 1
	if have timeout; then
		timeout "$DOCKER_TIMEOUT" docker info >/dev/null 2>&1
	else
		docker info >/dev/null 2>&1
	fi
}

apt_usable() {
	[ "$(os)" = Linux ] && have apt-get && { is_root || sudo_ok; }
}

brew_usable() { [ "$(os)" = Darwin ] && have brew; }

# pg_cluster_version: PG_CLUSTER_VERSION, else the newest cluster under
# /etc/postgresql (Debian's versions are whole numbers since 10).
pg_cluster_version() {
	local version="${PG_CLUSTER_VERSION:-}" dir v
	if [ -z "$version" ]; then
		for dir in /etc/postgresql/*/; do
			v="${dir%/}"
			v="${v##*/}"
			[[ "$v" =~ ^[0-9]+$ ]] || continue
			if [ -z "$version" ] || ((v > version)); then version="$v"; fi
		done
	fi
	printf '%s' "$version"
}

pg_installed() { have pg_ctlcluster && [ -n "$(pg_cluster_version)" ]; }

redis_installed() { have redis-server; }

# ---- 1. start what is installed ----------------------------------------------

start_pg_cluster() {
	local version
	version="$(pg_cluster_version)"
	if dry_run && [ -z "$version" ]; then
		version="<installed version>"
	fi
	[ -n "$version" ] || die "PostgreSQL is not running on $PG_HOST:$PG_PORT and no cluster was found under /etc/postgresql"

	log "PostgreSQL not ready on $PG_HOST:$PG_PORT; starting cluster $version/main"
	# A non-zero exit here may only mean the cluster is already starting up;
	# the readiness poll below is the real check.
	if ! as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start; then
		log "warning: pg_ctlcluster $version main start exited non-zero; waiting for readiness anyway"
	fi
	if ! wait_until "PostgreSQL" pg_ready; then
		die "PostgreSQL did not become ready on $PG_HOST:$PG_PORT within ${TIMEOUT}s (see /var/log/postgresql/postgresql-$version-main.log)"
	fi
}

start_redis_server() {
	log "Redis not answering on $REDIS_HOST:$REDIS_PORT; starting redis-server"
	as_root mkdir -p "$REDIS_DATA_DIR" "$REDIS_LOG_DIR" ||
		die "cannot create $REDIS_DATA_DIR / $REDIS_LOG_DIR (run as a user that can, or start Redis yourself)"
	as_root redis-server \
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

# ---- 2. Docker ---------------------------------------------------------------

# compose_up SERVICE...: the services of compose.yaml, published on 127.0.0.1
# with trusted local connections by compose.dev.yaml.
compose_up() {
	# compose.yaml refuses to load without these, though postgres and redis
	# never see them: any value lets it load.
	export CUSTOM_GPT_ADMIN_TOKEN="${CUSTOM_GPT_ADMIN_TOKEN:-unused-by-postgres-and-redis}"
	export CUSTOM_GPT_SECRETS_KEY="${CUSTOM_GPT_SECRETS_KEY:-unused-by-postgres-and-redis}"
	act docker compose -f "$ROOT/compose.yaml" -f "$ROOT/compose.dev.yaml" up -d --wait "$@" ||
		die "docker compose could not start $* (is something else on port 5432 or 6379?)"
}

# ---- 3. packages -------------------------------------------------------------

# trust_local_postgres VERSION: lets the default URL in (user postgres, no
# password, from this machine) on a cluster this script installed, whose
# pg_hba.conf asks for a password over TCP.
trust_local_postgres() {
	local hba="/etc/postgresql/$1/main/pg_hba.conf"
	if ! dry_run && as_root grep -qF "$HBA_MARK" "$hba" >/dev/null 2>&1; then
		return 0
	fi
	# pg_hba.conf takes the first line that matches: put these first.
	as_root sed -i \
		-e "1i # $HBA_MARK: the development URL connects as postgres without a password" \
		-e '1i host all postgres 127.0.0.1/32 trust' \
		-e '1i host all postgres ::1/128 trust' "$hba"
	if pg_ready; then
		as_root pg_ctlcluster --skip-systemctl-redirect "$1" main reload
	fi
}

apt_install() {
	local packages=()
	[ -z "$pg_missing" ] || packages+=(postgresql)
	[ -z "$redis_missing" ] || packages+=(redis-server)
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}"
	if [ -n "$pg_missing" ]; then
		local version
		version="$(pg_cluster_version)"
		dry_run && [ -z "$version" ] && version="<installed version>"
		[ -n "$version" ] || die "apt-get installed postgresql but no cluster appeared under /etc/postgresql"
		trust_local_postgres "$version"
		pg_ready || start_pg_cluster
	fi
	if [ -n "$redis_missing" ]; then
		# Started by the package where systemd runs; started here where not.
		redis_ready || start_redis_server
	fi
}

brew_install() {
	local formulas=() formula
	[ -z "$pg_missing" ] || formulas+=("$BREW_PG")
	[ -z "$redis_missing" ] || formulas+=(redis)
	for formula in "${formulas[@]}"; do
		brew list --versions "$formula" >/dev/null 2>&1 || act brew install "$formula"
		act brew services start "$formula"
	done
	if [ -n "$pg_missing" ]; then
		local prefix
		prefix="$(brew --prefix "$BREW_PG" 2>/dev/null || true)"
		[ -z "$prefix" ] || PATH="$prefix/bin:$PATH"
		wait_until "PostgreSQL" pg_ready ||
			die "PostgreSQL did not become ready on $PG_HOST:$PG_PORT within ${TIMEOUT}s (brew services info $BREW_PG)"
		# Homebrew's cluster trusts local connections but its superuser is
		# the macOS user; the default URL connects as postgres.
		if dry_run; then
			log "would run: createuser -h $PG_HOST -p $PG_PORT -s postgres (if the role postgres is missing)"
		elif ! psql -X -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; then
			act createuser -h "$PG_HOST" -p "$PG_PORT" -s postgres
		fi
	fi
	if [ -n "$redis_missing" ]; then
		wait_until "Redis" redis_ready ||
			die "Redis did not answer PING on $REDIS_HOST:$REDIS_PORT within ${TIMEOUT}s (brew services info redis)"
	fi
}

# ---- 4. nothing here can: say what would ------------------------------------

give_up() {
	local what=()
	[ -z "$pg_missing" ] || what+=("PostgreSQL on $PG_HOST:$PG_PORT")
	[ -z "$redis_missing" ] || what+=("Redis on $REDIS_HOST:$REDIS_PORT")
	local missing="${what[0]} is" them=it
	if [ "${#what[@]}" -eq 2 ]; then
		missing="${what[0]} and ${what[1]} are"
		them=them
	fi
	local run
	if [ "$(os)" = Linux ] && have apt-get; then
		run="sudo bash scripts/ensure-services.sh   (installs them with apt-get and starts them)"
	elif [ "$(os)" = Darwin ]; then
		run="go tool task deps   once Homebrew is installed (it installs $BREW_PG and redis with brew)"
	elif have docker; then
		run="go tool task deps   once Docker runs with its compose plugin (docker compose version, docker info)"
	else
		run="go tool task deps   once Docker with its compose plugin is installed, or PostgreSQL 13+ and Redis 6.2+ on those ports with user postgres trusted from 127.0.0.1"
	fi
	die "$missing not reachable, and nothing here may start $them: no installed server, no Docker with compose, no apt-get as root or with password-less sudo, no Homebrew on macOS. Run:
  $run"
}

ensure_database() {
	[ -n "$DB_NAME" ] || return 0
	if ! [[ "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]]; then
		[ -z "${ENSURE_SERVICES_DB+set}" ] ||
			die "ENSURE_SERVICES_DB='$DB_NAME' is not a plain lowercase identifier"
		# `migrate` and CUSTOM_GPT_AUTO_MIGRATE create any name themselves.
		log "database '$DB_NAME' of CUSTOM_GPT_DATABASE_URL is not a plain lowercase identifier; not creating it"
		return 0
	fi
	if dry_run; then
		log "would create database '$DB_NAME' if missing"
		return 0
	fi
	if ! have psql; then
		# `migrate` and CUSTOM_GPT_AUTO_MIGRATE create it themselves.
		return 0
	fi

	local psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres)
	local exists
	if ! exists="$("${psql[@]}" -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>&1)"; then
		log "warning: could not query databases as user postgres (${exists}); not creating '$DB_NAME'"
		return 0
	fi
	[ "$exists" != "1" ] || return 0
	log "creating database '$DB_NAME'"
	"${psql[@]}" -c "CREATE DATABASE $DB_NAME" >/dev/null ||
		die "could not create database '$DB_NAME'"
}

pg_missing=""
redis_missing=""
pg_ready || pg_missing=1
redis_ready || redis_missing=1

if [ -n "$pg_missing" ] && pg_installed; then
	start_pg_cluster
	pg_missing=""
fi
if [ -n "$redis_missing" ] && redis_installed; then
	start_redis_server
	redis_missing=""
fi

if [ -n "$pg_missing$redis_missing" ]; then
	if docker_usable; then
		services=()
		[ -z "$pg_missing" ] || services+=(postgres)
		[ -z "$redis_missing" ] || services+=(redis)
		compose_up "${services[@]}"
		[ -z "$pg_missing" ] || wait_until "PostgreSQL" pg_ready ||
			die "PostgreSQL is not reachable on $PG_HOST:$PG_PORT though docker compose started it"
		[ -z "$redis_missing" ] || wait_until "Redis" redis_ready ||
			die "Redis is not reachable on $REDIS_HOST:$REDIS_PORT though docker compose started it"
	elif apt_usable; then
		apt_install
	elif brew_usable; then
		brew_install
	else
		give_up
	fi
fi

ensure_database
if dry_run; then
	log "dry run: nothing was changed"
fi
