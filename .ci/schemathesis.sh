#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis runs every check (examples, coverage,
# fuzzing, stateful) on a started server with a fresh data directory and fails on any failure.
# The player-name format and the per-operation settings are in .ci/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
st="${ARCADE_TOOLS:-/opt/arcade-tools}/schemathesis/bin/schemathesis"

cargo build --locked --bin arcade
bin="$CARGO_TARGET_DIR/debug/arcade"

data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
log="$data/server.log"
# Starts are limited per client, and every request comes from here: a limit the run cannot
# reach, so that starting sessions stays a success the checks can rely on.
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --starts-per-minute 1000000 >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  "$bin" healthcheck --url "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done

# One worker: hypothesis reads lambdas' source with `ast`, whose recursion bookkeeping CPython
# 3.11 keeps per interpreter, so two workers parsing at once fail with a SystemError.
if ! SCHEMATHESIS_HOOKS=hooks PYTHONPATH=.ci/schemathesis \
  "$st" --config-file .ci/schemathesis/schemathesis.toml run \
  "http://127.0.0.1:$port/openapi.json" --checks all --generation-deterministic; then
  echo "server log:"
  tail -n 50 "$log"
  exit 1
fi
