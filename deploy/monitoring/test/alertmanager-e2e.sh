#!/usr/bin/env bash
# Runs deploy/monitoring/alertmanager/alertmanager.yaml in a real Alertmanager on loopback,
# with the Slack webhook secret files pointing at a local receiver, posts alerts and checks:
#   - a critical alert reaches the critical (on-call) webhook, with its runbook link;
#   - a warning reaches the warning webhook, and only that one;
#   - a symptom (ArcadeHighErrorRatio) is inhibited by ArcadeDependencyDown in its namespace
#     and never notified, while the same symptom in another namespace is.
# Only the secret file paths and the grouping delays are changed from the committed file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config="$here/../alertmanager/alertmanager.yaml"
# shellcheck source=deploy/monitoring/test/lib.sh
source "$here/lib.sh"

tmp=$(mktemp -d)
cleanup() {
  stop_all
  rm -rf "$tmp"
}
trap cleanup EXIT

# Local receiver standing in for Slack.
start_bg "$tmp/receiver.out" node "$here/webhook-receiver.mjs" "$tmp/receiver.port" "$tmp/received.jsonl"
wait_file "$tmp/receiver.port" 10
rport=$(cat "$tmp/receiver.port")

mkdir -p "$tmp/secrets"
printf 'http://127.0.0.1:%s/critical\n' "$rport" >"$tmp/secrets/slack-critical-webhook-url"
printf 'http://127.0.0.1:%s/warning\n' "$rport" >"$tmp/secrets/slack-warning-webhook-url"
sed -e "s#/etc/alertmanager/secrets/#$tmp/secrets/#" \
  -e 's#group_wait: 30s#group_wait: 1s#' \
  -e 's#group_interval: 5m#group_interval: 1s#' \
  "$config" >"$tmp/alertmanager.yaml"
grep -q "$tmp/secrets/slack-critical-webhook-url" "$tmp/alertmanager.yaml"
grep -q 'group_wait: 1s' "$tmp/alertmanager.yaml"
amtool check-config "$tmp/alertmanager.yaml" >/dev/null

aport=$(free_port)
am="http://127.0.0.1:$aport"
start_bg "$tmp/alertmanager.log" prometheus-alertmanager \
  --config.file="$tmp/alertmanager.yaml" \
  --storage.path="$tmp/data" \
  --web.listen-address="127.0.0.1:$aport" \
  --cluster.listen-address= \
  --web.external-url="$am" \
  --log.level=info
if ! wait_http "$am/-/ready" 20 "$last_pid"; then
  show_log alertmanager "$tmp/alertmanager.log"
  exit 1
fi

alert() { # NAME SEVERITY NAMESPACE [EXTRA_LABELS_JSON]
  printf '{"labels":{"alertname":"%s","severity":"%s","namespace":"%s"%s},"annotations":{"summary":"%s in %s (e2e)","description":"posted by alertmanager-e2e.sh","runbook_url":"https://github.com/arcade-rs/arcade/blob/main/docs/runbook.md#%s"}}' \
    "$1" "$2" "$3" "${4:-}" "$1" "$3" "$(tr '[:upper:]' '[:lower:]' <<<"$1")"
}
payload="[$(alert ArcadeDependencyDown critical e2e ',"dependency":"redis"'),$(alert ArcadeHighErrorRatio critical e2e),$(alert ArcadeHighErrorRatio critical other),$(alert ArcadeReplayRejectionSpike warning e2e ',"game":"egg-catcher"')]"
curl -fsS -X POST -H 'content-type: application/json' --data "$payload" "$am/api/v2/alerts" >/dev/null
started=$SECONDS

# Wait for the three expected notifications (group_wait is 1 s here).
expect_node() {
  node --input-type=module -e "$1" "$tmp/received.jsonl"
}
check_js='
import { readFileSync, existsSync } from "node:fs";
const file = process.argv[1];
const lines = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
const got = lines.map((l) => JSON.parse(l)).map(({ path, body }) => ({
  path,
  text: JSON.stringify(body),
  title: (body.attachments || []).map((a) => a.title).join(" | "),
}));
const has = (path, name, ns) => got.some((g) => g.path === path && g.title.includes(name) && g.title.includes("(" + ns + ")"));
const want = [
  ["/critical", "ArcadeDependencyDown", "e2e"],
  ["/critical", "ArcadeHighErrorRatio", "other"],
  ["/warning", "ArcadeReplayRejectionSpike", "e2e"],
];
const missing = want.filter((w) => !has(...w));
if (missing.length) { console.log("waiting for " + JSON.stringify(missing)); process.exit(3); }
const bad = [];
if (has("/critical", "ArcadeHighErrorRatio", "e2e") || has("/warning", "ArcadeHighErrorRatio", "e2e"))
  bad.push("inhibited ArcadeHighErrorRatio in e2e was notified");
if (got.some((g) => g.path === "/warning" && g.title.includes("Arcade") && !g.title.includes("ArcadeReplayRejectionSpike")))
  bad.push("a critical alert reached the warning channel");
if (got.some((g) => g.path === "/critical" && g.title.includes("ArcadeReplayRejectionSpike")))
  bad.push("a warning reached the critical channel");
if (!got.some((g) => g.path === "/critical" && g.text.includes("docs/runbook.md#arcadedependencydown")))
  bad.push("the critical notification has no runbook link");
if (bad.length) { console.log(bad.join("\n")); console.log(JSON.stringify(got, null, 1)); process.exit(1); }
console.log("notifications: " + got.map((g) => g.path + " " + g.title).join("; "));
'
status=3
while ((SECONDS - started < 30)); do
  set +e
  out=$(expect_node "$check_js")
  status=$?
  set -e
  [ "$status" -ne 3 ] && break
  sleep 0.5
done
if [ "$status" -ne 0 ]; then
  echo "alertmanager e2e failed: $out" >&2
  show_log alertmanager "$tmp/alertmanager.log"
  exit 1
fi
# Give a late, wrongly un-inhibited notification a chance to arrive, then check again.
sleep 2
expect_node "$check_js" >/dev/null || {
  echo "alertmanager e2e failed after settling: $(expect_node "$check_js")" >&2
  exit 1
}

# Alertmanager itself must report the symptom as inhibited by the cause.
inhibited=$(curl -fsS "$am/api/v2/alerts?filter=alertname%3D%22ArcadeHighErrorRatio%22&filter=namespace%3D%22e2e%22" |
  node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>{const a=JSON.parse(s);console.log(a.length===1&&a[0].status.inhibitedBy.length>0?"yes":"no")})')
if [ "$inhibited" != yes ]; then
  echo "alertmanager e2e failed: ArcadeHighErrorRatio in e2e is not marked inhibited" >&2
  exit 1
fi
echo "$out"
echo "alertmanager e2e: routing by severity, inhibition and delivery OK in $((SECONDS - started)) s"
