#!/usr/bin/env bash
# Check the Prometheus files in deploy/prometheus with promtool: the alerting
# rules parse and their expressions are valid (check rules), the alerts fire
# as their unit tests say (test rules), and the scrape configuration loads
# (check config). promtool comes from Debian's prometheus package, installed
# here when missing. Which metrics the rules and the dashboard name is checked
# against the service itself by tests/observability (go test).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'check-observability: %s\n' "$*"; }

if ! command -v promtool >/dev/null 2>&1; then
	log "promtool not found; installing Debian's prometheus package"
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
promtool --version | head -n 1

promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
promtool check config deploy/prometheus/prometheus.yml
