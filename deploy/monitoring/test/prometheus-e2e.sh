#!/usr/bin/env bash
# Runs a real Prometheus (Debian, 2.42) on loopback that scrapes a real `arcade serve` (embedded
# SQLite, with one webhook that answers and one that does not) every second and evaluates both
# rule files, plays a short scripted game load
# (load.mjs), then checks every dashboard query and every rule through Prometheus' HTTP API
# (check-queries.mjs).
#   prometheus-e2e.sh ARCADE_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
monitoring=$(cd "$here/.." && pwd)
# shellcheck source=deploy/monitoring/test/lib.sh
source "$here/lib.sh"

bin=${1:?usage: prometheus-e2e.sh ARCADE_BINARY}
[ -x "$bin" ] || {
  echo "not an executable: $bin" >&2
  exit 2
}

tmp=$(mktemp -d)
cleanup() {
  stop_all
  rm -rf "$tmp"
}
trap cleanup EXIT

# Webhooks for the delivery panels: Slack to a local receiver (delivered), Discord to a port
# nothing listens on, tried once (failed), so both outcomes have series.
start_bg "$tmp/receiver.out" node "$here/webhook-receiver.mjs" "$tmp/receiver.port" "$tmp/received.jsonl"
wait_file "$tmp/receiver.port" 10
rport=$(cat "$tmp/receiver.port")
closed=$(free_port)

aport=$(free_port)
arcade="http://127.0.0.1:$aport"
start_bg "$tmp/arcade.log" "$bin" serve --listen "127.0.0.1:$aport" --data-dir "$tmp/data" --log-format json \
  --slack-webhook-url "http://127.0.0.1:$rport/slack" --discord-webhook-url "http://127.0.0.1:$closed/discord" \
  --webhook-max-attempts 1
if ! wait_http "$arcade/health/ready" 30 "$last_pid"; then
  show_log arcade "$tmp/arcade.log"
  exit 1
fi

pport=$(free_port)
prom="http://127.0.0.1:$pport"
cat >"$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $monitoring/rules/*.yaml
scrape_configs:
  - job_name: arcade
    static_configs:
      - targets: ["127.0.0.1:$aport"]
        labels:
          namespace: arcade-ci
          pod: arcade-ci-0
YAML
promtool check config "$tmp/prometheus.yml" >/dev/null
start_bg "$tmp/prometheus.log" prometheus \
  --config.file="$tmp/prometheus.yml" \
  --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$pport" \
  --log.level=warn
if ! wait_http "$prom/-/ready" 30 "$last_pid"; then
  show_log prometheus "$tmp/prometheus.log"
  exit 1
fi

# Wait for the first scrape (target discovery batches for ~5 s) so rates see the load.
scraped() {
  curl -fsS "$prom/api/v1/query" --data-urlencode 'query=up{job="arcade"} == 1' | grep -q '"namespace":"arcade-ci"'
}
deadline=$((SECONDS + 30))
until scraped; do
  if ((SECONDS >= deadline)); then
    echo "Prometheus did not scrape the arcade within 30 s" >&2
    show_log prometheus "$tmp/prometheus.log"
    exit 1
  fi
  sleep 0.5
done

start_epoch=$(date +%s)
if ! node "$here/load.mjs" "$arcade"; then
  show_log arcade "$tmp/arcade.log"
  exit 1
fi
# A few more scrapes and rule evaluations after the last request.
sleep 3

node "$here/check-queries.mjs" "$prom" "$monitoring/dashboards/arcade.json" "$start_epoch"
