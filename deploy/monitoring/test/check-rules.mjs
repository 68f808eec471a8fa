// Static checks of the alert rules that promtool does not make:
//   - every alert has a severity (critical or warning) and summary, description and runbook
//     annotations;
//   - every runbook link points at docs/runbook.md and its anchor exists there (a heading's
//     GitHub slug or an explicit <a id>);
//   - every alert is expected to fire in at least one promtool unit test (the quiet cases are
//     the other series of each test: promtool requires the exact list of firing alerts).
//   node check-rules.mjs MONITORING_DIR RUNBOOK_MD
// js-yaml comes from the tools installed by .ci/install-tools.sh ($ARCADE_TOOLS/npm).
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [dir, runbookFile] = process.argv.slice(2);
if (!dir || !runbookFile) {
  console.error("usage: node check-rules.mjs MONITORING_DIR RUNBOOK_MD");
  process.exit(2);
}
const tools = process.env.ARCADE_TOOLS ?? "/opt/arcade-tools";
const yaml = createRequire(join(tools, "npm", "package.json"))("js-yaml");
const load = (f) => yaml.load(readFileSync(f, "utf8"));

const runbook = readFileSync(runbookFile, "utf8");
const slug = (h) =>
  h.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
const anchors = new Set([
  ...[...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1])),
  ...[...runbook.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]),
]);

const failures = [];
const alerts = [];
for (const f of readdirSync(join(dir, "rules")).filter((n) => n.endsWith(".yaml")).sort()) {
  for (const group of load(join(dir, "rules", f)).groups) {
    for (const rule of group.rules) {
      if (!rule.alert) continue;
      const where = `${f}: ${rule.alert}`;
      alerts.push(rule.alert);
      const sev = rule.labels?.severity;
      if (!["critical", "warning"].includes(sev)) failures.push(`${where}: severity is ${sev}`);
      for (const a of ["summary", "description", "runbook_url"]) {
        if (!rule.annotations?.[a]) failures.push(`${where}: no ${a} annotation`);
      }
      const link = rule.annotations?.runbook_url ?? "";
      const m = link.match(/\/docs\/runbook\.md#([a-z0-9_-]+)$/);
      if (!m) failures.push(`${where}: runbook_url ${link} is not a link into docs/runbook.md`);
      else if (!anchors.has(m[1])) failures.push(`${where}: docs/runbook.md has no section #${m[1]}`);
    }
  }
}

const firing = new Set();
for (const f of readdirSync(join(dir, "tests")).filter((n) => n.endsWith(".yaml"))) {
  for (const t of load(join(dir, "tests", f)).tests ?? []) {
    for (const a of t.alert_rule_test ?? []) {
      if ((a.exp_alerts ?? []).length > 0) firing.add(a.alertname);
    }
  }
}
for (const a of alerts) if (!firing.has(a)) failures.push(`${a}: no unit test expects it to fire`);

if (failures.length) {
  console.error(`${failures.length} problem(s) in the alert rules:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log(`${alerts.length} alerts: severity, annotations, runbook sections and firing tests OK`);
