#!/usr/bin/env bash
# Arcade's benchmark runs (see BENCHMARKS.md). Loopback only; every step is time-bounded.
#
#   bash bench/run.sh build      # release builds of arcade, loadgen, seed and the hello floors
#   bash bench/run.sh floors     # wrk rounds: hello floors (axum, bare hyper), nginx, Arcade pages (embedded); p99 at half the peak
#   bash bench/run.sh embedded   # cold start, idle RSS, SSE cost, 10,000 players (embedded)
#   bash bench/run.sh full       # PostgreSQL+Redis+NATS: 1M seeded, ranks, 10,000 players, finishes
#   PG_REPLICAS=2 bash bench/run.sh full   # the same with the chart's streaming replicas
#   bash bench/run.sh instructions  # instructions per request in process (callgrind; repeatable)
#
# Results go to $OUT (default /tmp/arcade-bench); CARGO_TARGET_DIR picks the build directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release
OUT=${OUT:-/tmp/arcade-bench}
WRK_SECONDS=${WRK_SECONDS:-10}
FLOOR_ROUNDS=${FLOOR_ROUNDS:-5}
HALF_ROUNDS=${HALF_ROUNDS:-5}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
PLAYERS=${PLAYERS:-10000}
SEED_PLAYERS=${SEED_PLAYERS:-1000000}
# Finishes in flight in the finish burst.
BURST_CONCURRENCY=${BURST_CONCURRENCY:-64}
# The full run's PostgreSQL: by default a cluster of the run's own, set up as the Helm chart
# sets up the deployed one (see `private_postgres`); PG names a running server instead.
PG=${PG:-}
PG_PORT=${PG_PORT:-15432}
# Streaming replicas of the run's own cluster, on the ports after PG_PORT; with any, commits
# wait for as many of them as the chart's `synchronousReplicas`, as CloudNativePG sets it up.
PG_REPLICAS=${PG_REPLICAS:-0}
REDIS=${REDIS:-redis://127.0.0.1:6379}
NATS=${NATS:-nats://127.0.0.1:4222}
ID=${BENCH_ID:-$$}
mkdir -p "$OUT"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    # Gone before anything binds the same port again.
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

log() { printf '\n== %s\n' "$*" | tee -a "$OUT/summary.txt"; }

wait_http() {
    for _ in $(seq 1 200); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "no answer from $1" >&2
    return 1
}

# What browsers send: responses to them may be compressed.
BROWSER_ENCODINGS='Accept-Encoding: gzip, deflate, br, zstd'

# wrk for WRK_SECONDS; prints "req/s p99" and appends the raw output to the summary. Extra
# arguments go to wrk (e.g. -H "$BROWSER_ENCODINGS").
wrk_rate() {
    local name=$1 url=$2 raw
    shift 2
    raw=$(timeout $((WRK_SECONDS + 20)) wrk -t2 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency "$@" "$url")
    printf '%s\n%s\n' "-- wrk $name $url" "$raw" >>"$OUT/wrk.txt"
    local rps p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$raw")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$raw")
    printf '%-28s %12s req/s  p99 %s\n' "$name" "$rps" "$p99" | tee -a "$OUT/summary.txt" >&2
    echo "$rps"
}

# One round of p99 at half the peak: wrk measures the peak of `url` (browser encodings), then
# the load generator sends half that rate, open loop, for 20 s, watching the server `pid`. Appends
# "round name peak rate p99 p95 p50 errors sent-late-p99" to $OUT/half-rates.txt (the last: how
# late the generator itself sent the requests, which shows when the tail is the shared cores').
half_rate_round() { # round name url rate-flag server-pid
    local round=$1 name=$2 url=$3 flag=$4 pid=$5 peak half
    local base=${url#http://}
    base=http://${base%%/*}
    peak=$(wrk_rate "peak-$name" "$url" -H "$BROWSER_ENCODINGS")
    half=$(awk -v r="$peak" 'BEGIN { printf "%d", r / 2 }')
    timeout 120 "$BIN/loadgen" run --target "$base" --server-pid "$pid" \
        --warmup 3s --duration 20s "$flag" "$half" \
        --json "$OUT/half-rate-$name-$round.json" >>"$OUT/summary.txt"
    python3 - "$OUT/half-rate-$name-$round.json" "$round" "$name" "$peak" <<'PY' | tee -a "$OUT/half-rates.txt"
import json, sys
run = json.load(open(sys.argv[1]))
e = run["endpoints"][0]
print(sys.argv[2], sys.argv[3], round(float(sys.argv[4])), round(e["rps"]), e["p99_ms"], e["p95_ms"], e["p50_ms"], e["errors"], e.get("sent_late_p99_ms"))
PY
}

# The median req/s of server `name` over the rounds in a "round name req/s" file.
median_rate() { # name file
    awk -v n="$1" '$2 == n { print $3 }' "$2" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

start_arcade() { # port data-dir [extra flags...]
    local port=$1 dir=$2
    shift 2
    "$BIN/arcade" serve --listen "127.0.0.1:$port" --data-dir "$dir" --log-level warn \
        --starts-per-minute 1000000 "$@" >>"$OUT/arcade-$port.log" 2>&1 &
    PIDS+=("$!")
    ARCADE_PID=$!
    wait_http "http://127.0.0.1:$port/health/ready"
}

build() {
    # As `cargo run --release` and the image build it: features resolved for the whole
    # workspace, the build `crates/arcade/startup.order` names the symbols of.
    cargo build --release --bin arcade
    cargo build --release -p arcade-loadgen --bins --examples
}

floors() {
    local www=$OUT/www dir=$OUT/floors-data
    rm -rf "$dir" && mkdir -p "$www" "$dir"
    "$BIN/examples/hello" 127.0.0.1:18081 &
    PIDS+=("$!")
    local hello_pid=$!
    "$BIN/examples/hyper_hello" 127.0.0.1:18085 &
    PIDS+=("$!")
    start_arcade 18080 "$dir"
    # A board to read: a few hundred players finish games first.
    timeout 60 "$BIN/loadgen" run --target http://127.0.0.1:18080 --players 300 \
        --game-seconds 4 --warmup 1s --duration 8s >"$OUT/floors-fill.txt"
    curl -fsS -o "$www/play.html" http://127.0.0.1:18080/play/egg-catcher
    gzip -9 -k -f "$www/play.html"
    # The board's floor: the same top-10 answer, as a file nginx serves.
    curl -fsS -o "$www/top10.json" "http://127.0.0.1:18080/api/games/egg-catcher/leaderboard?limit=10"
    cat >"$OUT/nginx.conf" <<NGINX
worker_processes 2;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:18082 backlog=1024;
        root $www;
        types { text/html html; application/json json; }
        location / { default_type text/html; gzip_static on; }
    }
}
NGINX
    nginx -c "$OUT/nginx.conf"
    wait_http http://127.0.0.1:18082/play.html
    wait_http http://127.0.0.1:18085/
    # Interleaved rounds: the machine's speed drifts by tens of percent within minutes
    # (neighbours on the host), so each round measures every server once, each ratio is taken
    # against the hello floor of its own round, and the medians are reported.
    local board="http://127.0.0.1:18080/api/games/egg-catcher/leaderboard?limit=10"
    local page_url=http://127.0.0.1:18080/play/egg-catcher
    local rates=$OUT/floor-rates.txt
    : >"$rates"
    log "floors and Arcade (embedded), $FLOOR_ROUNDS interleaved rounds of wrk -t2 -c$WRK_CONNECTIONS -d${WRK_SECONDS}s"
    for round in $(seq 1 "$FLOOR_ROUNDS"); do
        {
            echo "$round hello $(wrk_rate hello http://127.0.0.1:18081/)"
            echo "$round hyper-hello $(wrk_rate hyper-hello http://127.0.0.1:18085/)"
            echo "$round nginx-game-page $(wrk_rate nginx-game-page http://127.0.0.1:18082/play.html)"
            echo "$round nginx-game-page-gzip $(wrk_rate nginx-game-page-gzip \
                http://127.0.0.1:18082/play.html -H 'Accept-Encoding: gzip')"
            echo "$round nginx-top10 $(wrk_rate nginx-top10 http://127.0.0.1:18082/top10.json)"
            echo "$round arcade-top10 $(wrk_rate arcade-top10 "$board")"
            echo "$round arcade-top10-browser $(wrk_rate arcade-top10-browser "$board" \
                -H "$BROWSER_ENCODINGS")"
            echo "$round arcade-game-page $(wrk_rate arcade-game-page "$page_url")"
            echo "$round arcade-game-page-browser $(wrk_rate arcade-game-page-browser "$page_url" \
                -H "$BROWSER_ENCODINGS")"
            echo "$round arcade-home $(wrk_rate arcade-home http://127.0.0.1:18080/)"
        } >>"$rates"
    done
    log "median req/s over the rounds, and the medians of each round's ratios to its hello floors (axum, bare hyper)"
    awk '
        { rate[$2] = rate[$2] " " $3; r[$1, $2] = $3; names[$2] = 1; rounds[$1] = 1 }
        function median(list,    n, v, i, j, t) {
            n = split(list, v, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        END {
            for (name in names) {
                ratios = ""; bare = ""
                for (k in rounds) {
                    ratios = ratios " " r[k, name] / r[k, "hello"]
                    bare = bare " " r[k, name] / r[k, "hyper-hello"]
                }
                printf "%-26s %10.0f req/s  ratio to hello %.2f, to hyper-hello %.2f (rounds:%s)\n", name, median(rate[name]), median(ratios), median(bare), ratios
            }
        }' "$rates" | sort | tee -a "$OUT/summary.txt"
    nginx -c "$OUT/nginx.conf" -s stop || true
    # p99 at half the peak, open loop, one endpoint at a time. The machine's speed drifts, so
    # each round measures the endpoint's peak (wrk, browser encodings) right before loading
    # it at half that rate from the load generator, and the median round is reported.
    local half_rates=$OUT/half-rates.txt
    : >"$half_rates"
    log "open loop at half of a peak measured just before (browser encodings), $HALF_ROUNDS rounds"
    echo "round endpoint peak-req/s sent-req/s p99-ms p95-ms p50-ms errors sent-late-p99-ms" | tee -a "$OUT/summary.txt"
    for round in $(seq 1 "$HALF_ROUNDS"); do
        # The floor's own tail under the same generator: what the two shared cores allow.
        half_rate_round "$round" hello http://127.0.0.1:18081/ --home-rps "$hello_pid"
        half_rate_round "$round" top10 "$board" --leaderboard-rps "$ARCADE_PID"
        half_rate_round "$round" game-page "$page_url" --game-page-rps "$ARCADE_PID"
    done
    log "median round of the open loop at half the peak"
    for name in hello top10 game-page; do
        awk -v n="$name" '$2 == n' "$half_rates" | sort -k5 -g |
            awk '{ v[NR] = $0; p = p " " $5 } END { print v[int((NR + 1) / 2)] "  (p99 ms of every round:" p ")" }'
    done | tee -a "$OUT/summary.txt"
    # The same rates from wrk, paced by a pause after each answer: a generator in C costs a
    # fraction of the load generator's CPU per request, which matters when both share two
    # cores. Being closed loop, a late answer delays that connection's next request instead of
    # queueing it, so this shows the server's own tail, not queueing behind a slow answer.
    # One cycle is the 2 ms pause, the answer and wrk's timer slack: about 3.3 ms here.
    log "paced wrk near half of each peak (2 ms pause per connection after each answer)"
    local top10 page conns
    top10=$(median_rate arcade-top10-browser "$rates")
    page=$(median_rate arcade-game-page-browser "$rates")
    conns=$(awk -v r="$top10" 'BEGIN { printf "%d", r / 2 * 0.0033 }')
    WRK_CONNECTIONS=$conns wrk_rate "paced-top10-c$conns" "$board" -s "$HERE/paced.lua" >/dev/null
    conns=$(awk -v r="$page" 'BEGIN { printf "%d", r / 2 * 0.0033 }')
    WRK_CONNECTIONS=$conns wrk_rate "paced-game-page-c$conns" "$page_url" -s "$HERE/paced.lua" >/dev/null
    cleanup
    PIDS=()
}

embedded() {
    local dir=$OUT/embedded-data
    rm -rf "$dir" && mkdir -p "$dir"
    log "cold start to ready (embedded, fresh data directory, then existing)"
    for run in fresh existing; do
        timeout 30 "$BIN/loadgen" cold-start --ready-url http://127.0.0.1:18083/health/ready \
            -- "$BIN/arcade" serve --listen 127.0.0.1:18083 --data-dir "$dir" --log-level warn |
            sed "s/^/$run: /" | tee -a "$OUT/summary.txt"
    done
    start_arcade 18083 "$dir"
    log "idle live connections: 2,000 x GET /api/events"
    timeout 60 "$BIN/loadgen" run --target http://127.0.0.1:18083 --server-pid "$ARCADE_PID" \
        --sse 2000 --warmup 1s --duration 3s | tee -a "$OUT/summary.txt"
    # A fresh process for the players, so its memory is the sessions' and not what the idle
    # connections above left behind.
    cleanup
    PIDS=()
    start_arcade 18083 "$dir"
    log "embedded: $PLAYERS players (heartbeat 2 s), reads alongside"
    timeout 200 "$BIN/loadgen" run --target http://127.0.0.1:18083 --server-pid "$ARCADE_PID" \
        --players "$PLAYERS" --ramp 10s --warmup 15s --duration 60s --game-seconds 30..300 \
        --leaderboard-rps 200 --rank-rps 100 --home-rps 20 --json "$OUT/embedded-players.json" |
        tee -a "$OUT/summary.txt"
    log "embedded: finish burst"
    timeout 300 "$BIN/loadgen" finish-burst --target http://127.0.0.1:18083 \
        --server-pid "$ARCADE_PID" --sessions 20000 --game-seconds 30 --concurrency 64 |
        tee -a "$OUT/summary.txt"
    cleanup
    PIDS=()
}

DB=arcade_bench_$ID
PREFIX=bench-$ID:
PG_DIR=$OUT/postgres

# Run a PostgreSQL command as the postgres user (the server refuses to run as root).
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A PostgreSQL cluster of this run's own on 127.0.0.1:$PG_PORT, with the server parameters the
# Helm chart gives the CloudNativePG cluster (`postgresql.cnpg.parameters` in the chart's
# values), so that the database measured is configured as the database deployed: a packaged
# server's defaults keep a smaller buffer cache, and with a million players the finishes then
# wait on reads the deployed database serves from memory. Its log ($PG_DIR/server.log) notes
# every checkpoint and autovacuum, which a measurement may have run beside.
private_postgres() {
    local bin params sync i dir port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    params=$(python3 -c '
import sys, yaml
values = yaml.safe_load(open(sys.argv[1]))
for k, v in values["postgresql"]["cnpg"]["parameters"].items():
    print(f"-c {k}={v}", end=" ")' "$HERE/../deploy/helm/arcade/values.yaml")
    rm -rf "$PG_DIR" "$PG_DIR"-replica-* && mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
    as_postgres "$bin/initdb" -D "$PG_DIR" -A trust -U postgres >/dev/null
    log "PostgreSQL of the run's own: $params"
    as_postgres "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -o \
        "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c log_autovacuum_min_duration=0 $params" \
        start >/dev/null
    PG=postgres://postgres@127.0.0.1:$PG_PORT
    [ "$PG_REPLICAS" -gt 0 ] || return 0
    for i in $(seq 1 "$PG_REPLICAS"); do
        dir=$PG_DIR-replica-$i port=$((PG_PORT + i))
        mkdir -p "$dir"
        if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
        chmod 700 "$dir"
        # -R: the copy starts as a standby streaming from the primary; its name is only
        # for pg_stat_replication (the primary waits for ANY of them).
        as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$dir" -R -X stream \
            -d "application_name=replica$i"
        as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o \
            "-p $port -c listen_addresses=127.0.0.1 -k $dir $params" start >/dev/null
    done
    sync=$(python3 -c '
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["postgresql"]["cnpg"]["synchronousReplicas"])' \
        "$HERE/../deploy/helm/arcade/values.yaml")
    sync=$((sync < PG_REPLICAS ? sync : PG_REPLICAS))
    if [ "$sync" -gt 0 ]; then
        psql "$PG/postgres" -qc "ALTER SYSTEM SET synchronous_standby_names = 'ANY $sync (*)'" \
            -c "SELECT pg_reload_conf()" >/dev/null
    fi
    sleep 1 # for the reload, so that the log shows the replicas' synchronous state
    log "$PG_REPLICAS streaming replicas, commits wait for $sync: $(psql "$PG/postgres" -Atc \
        "SELECT string_agg(application_name || ' ' || sync_state, ', ') FROM pg_stat_replication")"
}

stop_private_postgres() {
    local bin dir
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    for dir in "$PG_DIR" "$PG_DIR"-replica-*; do
        if [ -f "$dir/postmaster.pid" ]; then
            as_postgres "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
        fi
    done
}

drop_backends() {
    cleanup
    if [ -n "$PG" ]; then
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    fi
    stop_private_postgres
    redis-cli -u "$REDIS" --scan --pattern "$PREFIX*" |
        xargs -r -n 1000 redis-cli -u "$REDIS" unlink >/dev/null || true
}

full() {
    local db=$DB prefix=$PREFIX dir=$OUT/full-data
    rm -rf "$dir" && mkdir -p "$dir"
    trap drop_backends EXIT
    [ -n "$PG" ] || private_postgres
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    local url=$PG/$db
    "$BIN/arcade" migrate --database-url "$url"
    log "seeding $SEED_PLAYERS players (PostgreSQL COPY, Redis through the rank index)"
    /usr/bin/time -v "$BIN/seed" --database-url "$url" --redis-url "$REDIS" --redis-prefix "$prefix" \
        --players "$SEED_PLAYERS" 2>&1 | grep -E 'rows|board|seeded|done|Maximum resident|Elapsed' |
        tee -a "$OUT/summary.txt"
    # As after any bulk load, and as pgbench does before it measures: the vacuum autovacuum
    # would otherwise run on the new rows during the measurement, and a checkpoint so that
    # the seeding's dirty pages are not written out under the load.
    log "VACUUM (ANALYZE) of the seeded tables, then CHECKPOINT"
    psql "$url" -qc "VACUUM (ANALYZE) players, scores, best_scores" -c "CHECKPOINT"
    # Replicas sharing Redis need one session secret; this run's is its own.
    ARCADE_SESSION_SECRET=${ARCADE_SESSION_SECRET:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}
    export ARCADE_SESSION_SECRET
    local flags=(--database-url "$url" --redis-url "$REDIS" --redis-prefix "$prefix" --nats-url "$NATS")
    start_arcade 18084 "$dir" "${flags[@]}"
    log "PostgreSQL+Redis+NATS: wrk on reads with $SEED_PLAYERS players on the board"
    wrk_rate full-top10 "http://127.0.0.1:18084/api/games/egg-catcher/leaderboard?limit=10" >/dev/null
    wrk_rate full-game-page http://127.0.0.1:18084/play/egg-catcher >/dev/null
    wrk_rate full-rank-one-player "http://127.0.0.1:18084/api/games/egg-catcher/players/seed123456" >/dev/null
    log "PostgreSQL+Redis+NATS: ranks of random seeded players, open loop"
    timeout 120 "$BIN/loadgen" run --target http://127.0.0.1:18084 --server-pid "$ARCADE_PID" \
        --warmup 3s --duration 20s --rank-rps 2000 --rank-prefix seed --rank-count "$SEED_PLAYERS" \
        --leaderboard-rps 1000 --json "$OUT/full-ranks.json" | tee -a "$OUT/summary.txt"
    log "PostgreSQL+Redis+NATS: $PLAYERS players (heartbeat 2 s) for 60 s, reads alongside"
    timeout 200 "$BIN/loadgen" run --target http://127.0.0.1:18084 --server-pid "$ARCADE_PID" \
        --players "$PLAYERS" --ramp 10s --warmup 15s --duration 60s --game-seconds 30..300 \
        --leaderboard-rps 200 --rank-rps 100 --rank-prefix seed --rank-count "$SEED_PLAYERS" \
        --home-rps 20 --json "$OUT/full-players.json" | tee -a "$OUT/summary.txt"
    log "PostgreSQL+Redis+NATS: finish burst, $BURST_CONCURRENCY in flight"
    timeout 300 "$BIN/loadgen" finish-burst --target http://127.0.0.1:18084 \
        --server-pid "$ARCADE_PID" --sessions 20000 --game-seconds 30 --concurrency "$BURST_CONCURRENCY" \
        --json "$OUT/full-finish.json" | tee -a "$OUT/summary.txt"
}

# Instructions per request through the real router, counted by callgrind on the `requests`
# bench: within 2% from run to run, where wall-clock rates on these machines move by tens of
# percent. Needs valgrind; the bench is built with its symbols (function names).
instructions() {
    local bench
    bench=$(CARGO_PROFILE_BENCH_STRIP=none cargo bench -p arcade --bench requests --no-run \
        --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "requests" and m.get("executable"):
        print(m["executable"])')
    log "instructions per request in process (callgrind, requests bench, embedded backends)"
    for name in hello_floor health_live leaderboard_top10 game_page games_list; do
        # From the package's directory, as `cargo bench` runs it. A process the bench forks
        # writes a profile of its own (%p); the bench's is the largest.
        # Under callgrind the bench's set-up runs tens of times slower, so a storage wait in it
        # may time out (a 503 the set-up asserts against): such a run is tried again.
        local try
        for try in 1 2 3; do
            rm -f "$OUT"/callgrind-"$name".*.out
            (cd "$HERE/../crates/arcade" && timeout 600 env -u DATABASE_URL -u REDIS_URL -u NATS_URL \
                valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind-$name.%p.out" \
                "$bench" --bench "request/$name\$" --profile-time 2 >"$OUT/callgrind-$name.log" 2>&1) &&
                break
            echo "$name: run $try failed (last lines of $OUT/callgrind-$name.log follow)" >&2
            grep -v '^==' "$OUT/callgrind-$name.log" | tail -n 3 >&2
        done
        local profile
        profile=$(find "$OUT" -maxdepth 1 -name "callgrind-$name.*.out" -printf '%s %p\n' |
            sort -n | tail -n 1 | cut -d' ' -f2-)
        printf '%-20s %s\n' "$name" "$(python3 "$HERE/instructions.py" \
            "$profile" '^requests::send::\{\{closure\}\}$')" | tee -a "$OUT/summary.txt"
    done
}

case ${1:-} in
build) build ;;
instructions) instructions ;;
floors) floors ;;
embedded) embedded ;;
full) full ;;
*)
    echo "usage: $0 build|floors|embedded|full|instructions" >&2
    exit 2
    ;;
esac
