#!/usr/bin/env bash
# Check the Prometheus files in deploy/prometheus with promtool: the alerting
# rules parse and their expressions are valid (check rules), the alerts fire
# as their unit tests say (test rules), and the scrape configuration loads
# (check config); and the PromQL of every panel of the Grafana dashboard
# parses, checked as recording rules. promtool comes from Debian's prometheus
# package and jq from Debian's jq, installed here when missing. Which metrics
# the rules and the dashboard name is checked against the service itself by
# tests/observability (go test).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'check-observability: %s\n' "$*"; }

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing Debian's ${missing[*]}"
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
promtool --version | head -n 1

promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
promtool check config deploy/prometheus/prometheus.yml

# Each panel's query as a recording rule (JSON is YAML), with Grafana's
# variables given values a query could have.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
jq '{groups: [{name: "dashboard", rules: [
		[.. | objects | select(has("expr")) | .expr] | to_entries[]
		| {record: "dashboard:panel_query_\(.key)",
		   expr: (.value | gsub("\\$__rate_interval"; "5m") | gsub("\\$__range"; "1h") | gsub("\\$job"; ".+"))}]}]}' \
	deploy/grafana/custom-gpt-adapter.json >"$tmp/dashboard-queries.yml"
echo "Checking the queries of deploy/grafana/custom-gpt-adapter.json"
promtool check rules "$tmp/dashboard-queries.yml"
