"""Replays the chart's canary analysis against recorded traffic with promtool, so the
AnalysisTemplate is shown to tell a good release from a bad one before any cluster runs it.

Every metric of the rendered AnalysisTemplate becomes an alerting rule that fires exactly when
Argo Rollouts would count a failed measurement: the successCondition must read
`len(result) == 0 || isNaN(result[0]) || result[0] <= LIMIT` (no traffic and no number pass), so
the rule is `(QUERY) > LIMIT`. Each scenario below writes the series Prometheus would hold for
a canary and its stable version (pods told apart by rollouts_pod_template_hash, as the chart's
ServiceMonitor labels them) and names the metrics that must fail; `promtool test rules` checks
that exactly those fire.

Usage: python canary_analysis.py RENDERED.yaml OUT_DIR
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

NAMESPACE = "arcade-production"
CANARY, STABLE = "6d8f9c7b5", "5b7c8d9f6"
ARGS = {"namespace": NAMESPACE, "canary-hash": CANARY, "stable-hash": STABLE}
# crates/arcade-telemetry/src/metrics.rs, HTTP_DURATION_BUCKETS (+Inf added by the client).
BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
           10.0]
CONDITION = re.compile(
    r"^len\(result\) == 0 \|\| isNaN\(result\[0\]\) \|\| result\[0\] <= ([0-9.]+)$")
MINUTES = 20
EVAL = "10m"


@dataclass
class Pods:
    """The requests one version's pods serve per minute, their 5xx share and latencies."""
    hash: str
    pods: int
    per_minute: int
    error_share: float = 0.002
    latency: float = 0.02
    # Share of requests at slow_latency instead of latency (a slow tail).
    slow_share: float = 0.0
    slow_latency: float = 0.0
    namespace: str = NAMESPACE


@dataclass
class Scenario:
    name: str
    versions: list[Pods]
    fails: set[str]
    # Extra raw series (probes, other namespaces) that must not change the verdict.
    extra: list[dict] = field(default_factory=list)


def counter(labels: dict, per_minute: float) -> dict:
    sel = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{{{sel}}}", "values": f"0+{per_minute:g}x{MINUTES}"}


def series_of(v: Pods) -> list[dict]:
    out = []
    for i in range(v.pods):
        pod = {"namespace": v.namespace, "pod": f"arcade-server-{v.hash}-p{i}",
               "rollouts_pod_template_hash": v.hash, "job": "arcade"}
        route = {"method": "POST", "route": "/api/sessions"}
        per_pod = v.per_minute / v.pods
        errors = per_pod * v.error_share
        out.append(counter({"__name__": "arcade_http_requests_total", **pod, **route,
                            "status": "200"}, per_pod - errors))
        if errors:
            out.append(counter({"__name__": "arcade_http_requests_total", **pod, **route,
                                "status": "503"}, errors))
        slow = per_pod * v.slow_share
        for le in [*BUCKETS, "+Inf"]:
            n = 0.0
            if le == "+Inf" or v.latency <= le:
                n += per_pod - slow
            if slow and (le == "+Inf" or v.slow_latency <= le):
                n += slow
            out.append(counter({"__name__": "arcade_http_request_duration_seconds_bucket",
                                **pod, **route, "le": str(le)}, n))
    return out


def probe_series(hash_: str, status: str, per_minute: float) -> dict:
    return counter({"__name__": "arcade_http_requests_total", "namespace": NAMESPACE,
                    "pod": f"arcade-server-{hash_}-p0", "rollouts_pod_template_hash": hash_,
                    "job": "arcade", "method": "GET", "route": "/health/ready",
                    "status": status}, per_minute)


def scenarios() -> list[Scenario]:
    def canary(**kw) -> Pods:
        return Pods(CANARY, pods=1, per_minute=600, **kw)

    def stable(**kw) -> Pods:
        return Pods(STABLE, pods=3, per_minute=5400, **kw)

    return [
        Scenario("a healthy canary passes, even while its readiness probe answers 503",
                 [canary(), stable()], set(),
                 [probe_series(CANARY, "503", 12)]),
        Scenario("a canary without traffic yet passes", [stable()], set()),
        Scenario("a canary failing 5% of requests fails the ceiling and the comparison",
                 [canary(error_share=0.05), stable()],
                 {"error-ratio", "error-ratio-vs-stable"}),
        Scenario("a canary failing 0.8% against a stable 0.1% fails the comparison only",
                 [canary(error_share=0.008), stable(error_share=0.001)],
                 {"error-ratio-vs-stable"}),
        Scenario("errors both versions share do not blame the canary",
                 [canary(error_share=0.008), stable(error_share=0.008)], set()),
        Scenario("errors in another namespace do not count",
                 [canary(), stable(),
                  Pods(CANARY, pods=1, per_minute=600, error_share=0.5,
                       namespace="arcade-staging")], set()),
        Scenario("a canary five times slower fails the p99 comparison under the ceiling",
                 [canary(latency=0.2), stable(latency=0.04)], {"p99-vs-stable"}),
        Scenario("a slow tail above the ceiling fails both p99 metrics",
                 [canary(slow_share=0.05, slow_latency=2.0), stable()],
                 {"p99-latency", "p99-vs-stable"}),
        Scenario("latency both versions share does not blame the canary",
                 [canary(latency=0.3), stable(latency=0.3)], set()),
        Scenario("a few milliseconds among fast requests are not a regression",
                 [canary(latency=0.004), stable(latency=0.001)], set()),
    ]


def substitute(query: str) -> str:
    return re.sub(r"\{\{args\.([a-z-]+)\}\}", lambda m: ARGS[m.group(1)], query)


def rule_name(metric: str) -> str:
    return "Canary_" + metric.replace("-", "_")


def main() -> int:
    rendered, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    templates = [d for d in yaml.safe_load_all(rendered.read_text())
                 if d and d["kind"] == "AnalysisTemplate"]
    if len(templates) != 1:
        print(f"FAIL {rendered}: expected one AnalysisTemplate, found {len(templates)}")
        return 1
    template = templates[0]
    declared = {a["name"] for a in template["spec"]["args"]}
    if declared != set(ARGS):
        print(f"FAIL the template's args are {sorted(declared)}, the replay knows {sorted(ARGS)}")
        return 1
    rules, names = [], []
    for metric in template["spec"]["metrics"]:
        m = CONDITION.match(metric["successCondition"])
        if not m:
            print(f"FAIL {metric['name']}: successCondition {metric['successCondition']!r} "
                  "is not `... || result[0] <= LIMIT`")
            return 1
        query = substitute(metric["provider"]["prometheus"]["query"]).strip()
        if "{{" in query:
            print(f"FAIL {metric['name']}: an argument is left in {query}")
            return 1
        names.append(metric["name"])
        rules.append({"alert": rule_name(metric["name"]),
                      "expr": f"(\n{query}\n) > {m.group(1)}"})
    expected = {"error-ratio", "error-ratio-vs-stable", "p99-latency", "p99-vs-stable"}
    if set(names) != expected:
        print(f"FAIL the template measures {sorted(names)}, the replay expects {sorted(expected)}")
        return 1
    (out / "canary.rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "canary-analysis", "rules": rules}]}, sort_keys=False))

    tests = []
    for s in scenarios():
        unknown = s.fails - set(names)
        if unknown:
            print(f"FAIL scenario {s.name!r} names unknown metrics {sorted(unknown)}")
            return 1
        series = [x for v in s.versions for x in series_of(v)] + s.extra
        tests.append({
            "name": s.name,
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [
                {"eval_time": EVAL, "alertname": rule_name(n),
                 "exp_alerts": [{"exp_labels": {}}] if n in s.fails else []}
                for n in names],
        })
    (out / "canary.test.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["canary.rules.yaml"], "evaluation_interval": "1m", "tests": tests},
        sort_keys=False))
    run = subprocess.run(["promtool", "test", "rules", "canary.test.yaml"], cwd=out,
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout + run.stderr)
        print("FAIL the canary analysis does not judge the scenarios as expected")
        return 1
    for s in scenarios():
        verdict = ", ".join(sorted(s.fails)) if s.fails else "passes"
        print(f"ok   {s.name}: {verdict}")
    print(f"canary analysis: {len(tests)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
