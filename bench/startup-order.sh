#!/usr/bin/env bash
# The order in which the release binary's linker places the server's start-up code
# (crates/arcade/startup.order; crates/arcade/build.rs passes it to LLD).
#
#   bash bench/startup-order.sh write        # build, profile, write crates/arcade/startup.order
#   bash bench/startup-order.sh check [BIN]  # fail when the order names symbols BIN lacks
#
# The binary is built as `cargo run --release` and the image build it (features resolved for
# the whole workspace; `-p arcade` alone would resolve fewer and name other symbols).
# `write` runs the release binary under callgrind (valgrind) on a fresh embedded data
# directory: start-up, the probes, a first visitor's pages and a few seconds of idling. Every
# function of the binary that ran is listed, so that the linker puts them side by side: the
# kernel maps 64 KB around each page of code a process faults in, and code spread over the
# whole text keeps most of the text resident. Run it again when dependencies change; `check`
# (in CI) says when that is due.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
ORDER=$HERE/crates/arcade/startup.order
TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
BIN=${2:-$TARGET_DIR/release/arcade}
# A stale order still links; below this share of its symbols found, it has lost its purpose.
MIN_FOUND_PERCENT=90

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

defined_functions() { # binary
    nm --defined-only "$1" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u
}

write() {
    cargo build --release --locked --bin arcade
    local port=18097 pid
    valgrind --tool=callgrind --callgrind-out-file="$work/profile" --dump-instr=no \
        --compress-strings=no --compress-pos=no --demangle=no \
        "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$work/data" --log-level warn \
        >"$work/log" 2>&1 &
    pid=$!
    local base=http://127.0.0.1:$port ready=
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null; then ready=1; break; fi
        sleep 0.2
    done
    [ -n "$ready" ] || { cat "$work/log" >&2; echo "the server did not get ready" >&2; exit 1; }
    for path in / /play/egg-catcher /play/2048 /api/games /api/games/egg-catcher/leaderboard \
        /api/games/2048/leaderboard /api/seasons /health/live /metrics; do
        curl -fsS -o /dev/null -H 'Accept-Encoding: gzip, deflate, br, zstd' "$base$path"
    done
    sleep 3
    # Dump what ran so far, then stop without running the shutdown.
    callgrind_control --dump=startup "$pid" >/dev/null
    sleep 1
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local binary
    binary=$(readlink -f "$BIN")
    # `fn=` lines name the functions that ran, under the `ob=` (object) they belong to.
    cat "$work"/profile* | awk -v ob="$binary" '
        /^ob=/ { cur = substr($0, 4) }
        /^fn=/ && cur == ob { print substr($0, 4) }' | sort -u >"$work/ran"
    defined_functions "$BIN" >"$work/defined"
    comm -12 "$work/ran" "$work/defined" >"$ORDER"
    echo "$(wc -l <"$ORDER") functions written to $ORDER"
}

check() {
    [ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
    local listed found
    defined_functions "$BIN" >"$work/defined"
    sort -u "$ORDER" >"$work/listed"
    listed=$(wc -l <"$work/listed")
    found=$(comm -12 "$work/listed" "$work/defined" | wc -l)
    echo "startup order: $found of $listed functions found in $BIN"
    if [ $((found * 100)) -lt $((listed * MIN_FOUND_PERCENT)) ]; then
        echo "the start-up order is stale: run 'bash bench/startup-order.sh write' and commit crates/arcade/startup.order" >&2
        exit 1
    fi
}

case ${1:-} in
write) write ;;
check) check ;;
*) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
