// Checks the dashboard and the alert rules against a real Prometheus that scraped a real arcade
// under game load (see prometheus-e2e.sh):
//   - dashboard hygiene: unique panel ids and refIds, only known template variables, and every
//     selector filtered by namespace (and pod, except recorded series which are per namespace);
//   - every panel query, with the template variables substituted, runs as a range query over
//     the load without error, and returns data unless its panel is listed in EXEMPT below;
//   - every arcade_* metric the server exposes appears on the dashboard;
//   - every rule from both rule files is loaded, evaluated without error (health "ok"), and
//     each alert expression also runs as an instant query without error.
//   node check-queries.mjs PROM_URL DASHBOARD_JSON START_EPOCH_SECONDS
import { readFileSync } from "node:fs";

const [prom, dashboardFile, startArg] = process.argv.slice(2);
if (!prom || !dashboardFile || !startArg) {
  console.error("usage: node check-queries.mjs PROM_URL DASHBOARD_JSON START_EPOCH_SECONDS");
  process.exit(2);
}

// Values the template variables take here. The scrape config of prometheus-e2e.sh labels the
// local arcade with this namespace and pod, as Kubernetes service discovery would.
const NAMESPACE = process.env.TEST_NAMESPACE ?? "arcade-ci";
const POD = process.env.TEST_POD ?? "arcade-ci-0";
const VARIABLES = {
  $namespace: NAMESPACE,
  $pod: POD,
  // Grafana uses max(4 x scrape interval, step + scrape interval); the load lasts ~15 s, so a
  // 1 m window sees all of it.
  $__rate_interval: "1m",
};

// Panels allowed to be empty here, with the reason. They must still query without error.
const EXEMPT = {
  "Memory working set vs limit": "cAdvisor and kube-state-metrics exist only in a cluster",
  "Container restarts (1 h)": "kube-state-metrics exists only in a cluster",
  "Rank requests the database answered for Redis": "the embedded server scraped here has no rank cache to fall back from",
  "Operator actions": "the load plays games; no operator acts on the server scraped here",
};

const failures = [];
const fail = (msg) => failures.push(msg);

async function api(path, params) {
  const url = `${prom}/api/v1/${path}?${new URLSearchParams(params)}`;
  const res = await fetch(url);
  const body = await res.json().catch(() => ({ status: "error", error: `HTTP ${res.status}` }));
  if (body.status !== "success") return { error: body.error ?? `HTTP ${res.status}` };
  return { data: body.data, warnings: body.warnings };
}

// --- dashboard hygiene ---------------------------------------------------------------------
const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8"));
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const ids = new Set();
for (const p of panels) {
  if (ids.has(p.id)) fail(`panel id ${p.id} is used twice`);
  ids.add(p.id);
}
// Logs panels read Loki (LogQL), which no Prometheus can run: their stream selector must
// still choose the namespace and pod, and they are listed apart.
const isLogs = (p) => p.datasource?.type === "loki";
const logPanels = panels.filter(isLogs);
const queryPanels = panels.filter((p) => p.type !== "row" && !isLogs(p));
for (const p of logPanels) {
  for (const t of p.targets) {
    const stream = t.expr.match(/^\{([^}]*)\}/);
    if (!stream) fail(`${p.title}: a LogQL query starts with a stream selector: ${t.expr}`);
    else {
      if (!stream[1].includes('namespace=~"$namespace"')) fail(`${p.title}: logs are not filtered by namespace`);
      if (!stream[1].includes('pod=~"$pod"')) fail(`${p.title}: logs are not filtered by pod`);
    }
    for (const v of t.expr.match(/\$[a-zA-Z_]+/g) ?? []) {
      if (!(v in VARIABLES)) fail(`${p.title}: unknown variable ${v} in ${t.expr}`);
    }
  }
}
for (const title of Object.keys(EXEMPT)) {
  if (!queryPanels.some((p) => p.title === title)) fail(`exempt panel "${title}" does not exist`);
}
const selector = /([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g;
for (const p of queryPanels) {
  const refIds = new Set();
  for (const t of p.targets) {
    if (refIds.has(t.refId)) fail(`${p.title}: refId ${t.refId} is used twice`);
    refIds.add(t.refId);
    for (const v of t.expr.match(/\$[a-zA-Z_]+/g) ?? []) {
      if (!(v in VARIABLES)) fail(`${p.title}: unknown variable ${v} in ${t.expr}`);
    }
    const selectors = [...t.expr.matchAll(selector)];
    if (selectors.length === 0) fail(`${p.title}: no label selector in ${t.expr}`);
    for (const [, metric, labels] of selectors) {
      if (!labels.includes('namespace=~"$namespace"')) fail(`${p.title}: ${metric} is not filtered by namespace`);
      if (!metric.includes(":") && !labels.includes('pod=~"$pod"')) fail(`${p.title}: ${metric} is not filtered by pod`);
    }
  }
}

// --- every panel query against the real Prometheus -----------------------------------------
const substitute = (expr) =>
  Object.entries(VARIABLES)
    .sort(([a], [b]) => b.length - a.length)
    .reduce((e, [k, v]) => e.split(k).join(v), expr);

const start = Number(startArg);
const end = Math.ceil(Date.now() / 1000);
const rows = [];
const usedMetrics = new Set();
for (const p of queryPanels) {
  let series = 0;
  for (const t of p.targets) {
    for (const [, metric] of t.expr.matchAll(selector)) usedMetrics.add(metric);
    const expr = substitute(t.expr);
    const r = await api("query_range", { query: expr, start, end, step: "2" });
    if (r.error) {
      fail(`${p.title} [${t.refId}]: query error: ${r.error}\n    ${expr}`);
      continue;
    }
    const n = r.data.result.filter((s) => s.values.length > 0).length;
    series += n;
    if (n === 0 && !(p.title in EXEMPT)) fail(`${p.title} [${t.refId}]: no data\n    ${expr}`);
  }
  rows.push([p.title, p.targets.length, series, p.title in EXEMPT ? `exempt: ${EXEMPT[p.title]}` : "data"]);
}

// --- every exposed arcade_* metric is on the dashboard --------------------------------------
const names = await api("label/__name__/values", { "match[]": `{namespace="${NAMESPACE}"}` });
if (names.error) fail(`metric names: ${names.error}`);
else {
  const base = (m) => m.replace(/_(bucket|count|sum)$/, "");
  const onDashboard = new Set([...usedMetrics].map(base));
  for (const m of names.data.filter((n) => n.startsWith("arcade_"))) {
    if (!onDashboard.has(base(m))) fail(`metric ${m} is exposed but on no dashboard panel`);
  }
}

// --- alert and recording rules --------------------------------------------------------------
const rules = await api("rules", {});
let ruleCount = 0;
let alertCount = 0;
if (rules.error) fail(`rules: ${rules.error}`);
else {
  const files = new Set(rules.data.groups.map((g) => g.file.split("/").pop()));
  for (const f of ["arcade.rules.yaml", "platform.rules.yaml"]) {
    if (!files.has(f)) fail(`rule file ${f} is not loaded`);
  }
  for (const g of rules.data.groups) {
    for (const rule of g.rules) {
      ruleCount += 1;
      const name = rule.name;
      if (rule.health !== "ok") fail(`rule ${name} (${g.name}): health ${rule.health} ${rule.lastError ?? ""}`);
      if (rule.type === "alerting") {
        alertCount += 1;
        const r = await api("query", { query: rule.query });
        if (r.error) fail(`alert ${name}: query error: ${r.error}`);
      }
    }
  }
}

// --- report ---------------------------------------------------------------------------------
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`panels (${rows.length}), range queries over ${end - start} s:`);
for (const [title, targets, series, status] of rows) {
  console.log(`  ${title.padEnd(width)}  ${String(targets).padStart(2)} queries  ${String(series).padStart(3)} series  ${status}`);
}
console.log(`rules: ${ruleCount} loaded and evaluated, ${alertCount} alert expressions queried`);
console.log(`logs panels (Loki, selectors checked, not run here): ${logPanels.map((p) => p.title).join(", ") || "none"}`);
if (failures.length) {
  console.error(`\n${failures.length} problem(s):\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log("dashboard and alert queries OK");
