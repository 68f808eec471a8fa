#!/usr/bin/env bash
# Runs the README's commands as they are written, so a README command that breaks fails CI.
#
#   bash .ci/readme.sh serve     the "Two commands" block's `cargo run ...` line, started as
#                                written; it must answer /health/ready, then it is stopped
#   bash .ci/readme.sh test      the same block's `cargo test ...` line, run as written
#   bash .ci/readme.sh stack     the "Full stack" block in a scratch copy of the tree: its `cp`
#                                line as written, the secrets its comment asks for filled in,
#                                and each `docker compose ...` line with `config` in place of
#                                `up` (no container engine here): the arcade services must have
#                                a build from this tree and every variable must resolve
set -euo pipefail
cd "$(dirname "$0")/.."
# PyYAML comes with the tools .ci/install-tools.sh installs.
python="${ARCADE_TOOLS:-/opt/arcade-tools}/venv/bin/python"

# The shell lines of the first ```sh block under the heading "## $1", comments removed.
block() {
  awk -v heading="## $1" '
    $0 == heading { inside = 1; next }
    inside && /^## / { exit }
    inside && /^```sh$/ { code = 1; next }
    code && /^```$/ { exit }
    code { sub(/[ \t]+#.*$/, ""); if ($0 != "") print }
  ' README.md
}

lines() {
  local -n out=$1
  mapfile -t out < <(block "$2")
  [ ${#out[@]} -gt 0 ] || {
    echo "README.md has no sh block under '## $2'" >&2
    exit 1
  }
}

serve() {
  local commands run="" line
  lines commands "Two commands"
  for line in "${commands[@]}"; do
    [[ $line == "cargo run"* ]] && run=$line
  done
  [ -n "$run" ] || {
    echo "the README's two commands have no 'cargo run' line" >&2
    exit 1
  }
  # The address the README promises, e.g. http://127.0.0.1:8080/.
  local url
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' README.md | head -n 1)
  url=${url:-http://127.0.0.1:8080/}
  if curl -s -o /dev/null "$url"; then
    echo "something already answers on $url: the README's server cannot start there" >&2
    exit 1
  fi
  local log
  log=$(mktemp)
  echo "\$ $run"
  # Its own process group, so stopping it stops cargo and the server alike.
  setsid bash -c "exec $run" >"$log" 2>&1 &
  local pid=$!
  stop() {
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  }
  trap stop EXIT
  # A release build from nothing takes minutes on two cores.
  local deadline=$((SECONDS + 1500))
  until curl -sf -o /dev/null "${url}health/ready"; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "'$run' did not serve ${url}health/ready:" >&2
      tail -n 40 "$log" >&2
      exit 1
    fi
    sleep 1
  done
  curl -sf "$url" | grep -q '<title>Arcade</title>' || {
    echo "'$run' answers, but not with the home page at $url" >&2
    exit 1
  }
  echo "'$run' serves the arcade on $url and reports ready"
  stop
  trap - EXIT
  rm -f "$log"
}

test_command() {
  local commands line
  lines commands "Two commands"
  for line in "${commands[@]}"; do
    if [[ $line == "cargo test"* ]]; then
      echo "\$ $line"
      bash -c "$line"
      # As written means without --locked: the lock file must need no change.
      git diff --exit-code --stat -- Cargo.lock
      return
    fi
  done
  echo "the README's two commands have no 'cargo test' line" >&2
  exit 1
}

stack() {
  local commands line
  lines commands "Full stack"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  git ls-files -z | xargs -0 cp -P --parents -t "$scratch"
  cd "$scratch"
  for line in "${commands[@]}"; do
    case $line in
      "cp "*)
        echo "\$ $line"
        bash -c "$line"
        # What the README asks the reader to set in .env.
        sed -i -E 's/^([A-Z_]*(PASSWORD|SECRET))=$/\1=readme-secret-of-thirty-two-bytes-or-more/' .env
        ;;
      "docker compose "*)
        local config=${line/#docker compose /docker-compose }
        config=${config/% up --build/ config}
        config=${config/% up/ config}
        echo "\$ $line   (checked as: $config)"
        local rendered warnings
        if ! rendered=$(bash -c "$config" 2>"$scratch/warnings"); then
          cat "$scratch/warnings" >&2
          exit 1
        fi
        warnings=$(cat "$scratch/warnings")
        if [ -n "$warnings" ]; then
          echo "$warnings" >&2
          exit 1
        fi
        RENDERED="$rendered" SCRATCH="$scratch" "$python" - <<'PY'
import os, sys
import yaml

config = yaml.safe_load(os.environ["RENDERED"])
scratch = os.environ["SCRATCH"]
arcade = {n: s for n, s in config["services"].items() if "arcade" in str(s.get("image", ""))}
assert arcade, "no service runs the arcade image"
for name, service in arcade.items():
    build = service.get("build")
    assert build, f"service {name} has no build: `up --build` would pull {service['image']}"
    assert os.path.realpath(build["context"]) == os.path.realpath(scratch), \
        f"service {name} builds from {build['context']}, not the repository root"
    dockerfile = os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))
    assert os.path.isfile(dockerfile), f"service {name}: no {dockerfile}"
text = yaml.safe_dump(config)
assert "readme-secret" in text, "the secrets of .env did not reach the services"
print(f"services {', '.join(sorted(config['services']))}; {', '.join(sorted(arcade))} build the image")
PY
        ;;
      *)
        echo "the README's full-stack block has a line this check does not know: $line" >&2
        exit 1
        ;;
    esac
  done
}

case "${1:-}" in
  serve) serve ;;
  test) test_command ;;
  stack) stack ;;
  *)
    echo "usage: bash .ci/readme.sh serve|test|stack" >&2
    exit 2
    ;;
esac
