# Helpers shared by the monitoring end-to-end tests (sourced, not run). Every process started
# with `start_bg` is stopped by `stop_all`, which the caller runs on exit.
# shellcheck shell=bash

bg_pids=()
last_pid=

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# start_bg LOG CMD...: runs CMD in the background, output to LOG, and remembers its pid.
start_bg() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  last_pid=$!
  bg_pids+=("$last_pid")
}

# stop_all: stops the processes started here, newest first, and waits for them.
stop_all() {
  local i
  for ((i = ${#bg_pids[@]} - 1; i >= 0; i--)); do
    kill "${bg_pids[i]}" 2>/dev/null || true
  done
  for ((i = ${#bg_pids[@]} - 1; i >= 0; i--)); do
    wait "${bg_pids[i]}" 2>/dev/null || true
  done
  bg_pids=()
}

# wait_http URL SECONDS [PID]: waits until URL answers 2xx; fails after SECONDS, or as soon
# as process PID has exited.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited before $url answered" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "no answer from $url within $2 s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# wait_file FILE SECONDS: waits until FILE exists and is not empty.
wait_file() {
  local file=$1 deadline=$((SECONDS + $2))
  until [ -s "$file" ]; do
    if ((SECONDS >= deadline)); then
      echo "$file not written within $2 s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# show_log NAME FILE: prints the end of a log after a failure.
show_log() {
  echo "--- last lines of $1 ($2)" >&2
  tail -n 40 "$2" >&2 || true
}
