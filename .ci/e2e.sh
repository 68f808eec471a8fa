#!/usr/bin/env bash
# Plays every game in headless Chromium (web/e2e/*.e2e.mjs, one after another) against a real
# server with a fresh data directory, and runs its operators' console with a token made there.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

(cd web && npm ci --no-audit --no-fund --silent)
cargo build --locked --bin arcade
bin="$CARGO_TARGET_DIR/debug/arcade"

data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
log="$data/server.log"
pidfile="$data/server.pid"
# The server is started again whenever it dies, on the same data directory: a test may kill it
# mid-game (its pid is in $pidfile) to see a game outlive the sessions held in its memory.
(
  while [ ! -e "$data/stop" ]; do
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" >>"$log" 2>&1 &
    echo $! >"$pidfile"
    wait $! || true
  done
) &
supervisor=$!
cleanup() {
  touch "$data/stop"
  kill "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || true
  wait "$supervisor" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  "$bin" healthcheck --url "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done

# The operators' console is signed into with a token made on the server's own database.
operator_token=$("$bin" admin --data-dir "$data" --as e2e token create --name e2e 2>>"$log")

mkdir -p target/e2e
failed=0
for test in web/e2e/*.e2e.mjs; do
  echo "--- $test"
  ARCADE_URL="http://127.0.0.1:$port" ARCADE_SERVER_PIDFILE="$pidfile" \
    ARCADE_OPERATOR_TOKEN="$operator_token" node "$test" || failed=$((failed + 1))
done
if [ "$failed" -gt 0 ]; then
  echo "server log:"
  tail -n 50 "$log"
  exit 1
fi
