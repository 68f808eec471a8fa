"""Render the Helm charts with Helm's own engine (helm-python-sdk) for every values file,
lint them strictly, and prove that broken values fail.

Writes one manifest stream per scenario to OUT/<scenario>.yaml for the validators that run
next (.ci/deploy.sh). Exits non-zero on any failure. Also checks that plain `helm install`
cannot deadlock: no pre-install hook of any scenario reads a resource the release itself
creates (the hook would wait for it forever), and an upgrade runs the migration as a hook.

The arcade-monitoring chart reads the alert rules and dashboard through files/monitoring, a
link to deploy/monitoring (one source of truth); Helm's loader follows it (and says so on
stderr).

`chart.py --render OUT.yaml VALUES...` renders the arcade chart on the given values files
(paths) only, for checks that bring their own values (the SOPS path).
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/arcade"
MONITORING_CHART = ROOT / "deploy/helm/arcade-monitoring"
MONITORING = ROOT / "deploy/monitoring"
RELEASE, NAMESPACE = "arcade", "arcade"

# name -> values files applied in order on top of values.yaml
SCENARIOS: dict[str, list[str]] = {
    "defaults": [],
    "staging": ["values-staging.yaml"],
    "production": ["values-production.yaml"],
    # The point-in-time restore of production (deploy/argocd/README.md).
    "production-restore": ["values-production.yaml", "values-production-restore.yaml"],
}
SCENARIOS.update({f"ci-{p.stem}": [f"ci/{p.name}"] for p in sorted((CHART / "ci").glob("*.yaml"))})

# Broken values that must be refused: (what, values on top of the defaults).
BROKEN: list[tuple[str, dict]] = [
    ("an unknown top-level key", {"replicaCount": 3}),
    ("a misspelt nested key", {"server": {"replica": 3}}),
    ("a string where a number belongs", {"server": {"replicas": "three"}}),
    ("an unknown log format", {"config": {"logFormat": "xml"}}),
    ("a duration without a unit", {"config": {"sessionTtl": "60"}}),
    ("a body limit below a heartbeat", {"config": {"maxBodyBytes": 100}}),
    ("no request allowed in flight", {"config": {"maxRequestsInFlight": 0}}),
    ("external NATS without a URL", {"nats": {"bundled": {"enabled": False}}}),
    ("two notifiers on one durable consumer", {"notifier": {"replicas": 2}}),
    ("the notifier's values under their former key", {"broadcaster": {"enabled": True}}),
    ("an empty Secret name", {"secrets": {"existingSecret": ""}}),
    ("a secret value inlined", {"secrets": {"databaseUrl": "postgres://u:p@db/arcade"}}),
    ("an invalid image digest", {"image": {"digest": "latest"}}),
    ("a canary without the Ingress its weights are set on",
     {"rollouts": {"enabled": True}, "ingress": {"enabled": False}}),
    ("a canary step Argo Rollouts does not know", {"rollouts": {"steps": [{"setWait": 10}]}}),
    ("the alert rules in an environment's release (once per cluster now)",
     {"monitoring": {"prometheusRule": {"enabled": True}}}),
    ("a CloudNativePG Cluster beside the bundled PostgreSQL", {"postgresql": {"cnpg": {"enabled": True}}}),
    ("base backups without a bucket",
     {"postgresql": {"bundled": {"enabled": False},
                     "cnpg": {"enabled": True, "backup": {"enabled": True}}}}),
    ("a REDIS_URL that is not Redis", {"redis": {"url": "http://redis:6379"}}),
    ("more stream replicas than JetStream allows", {"nats": {"streamReplicas": 7}}),
    ("a Secret from SOPS values and from the ExternalSecret at once",
     {"secrets": {"create": {"redis-url": "redis://r"}, "externalSecret": {"enabled": True}}}),
    ("egress to a service without pod labels",
     {"networkPolicy": {"egressTo": [{"name": "nats", "namespace": "nats", "podLabels": {}, "ports": [4222]}]}}),
]


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def check_monitoring() -> None:
    """The monitoring chart's content comes from deploy/monitoring through files/monitoring."""
    link = MONITORING_CHART / "files/monitoring"
    if not link.is_symlink() or link.resolve() != MONITORING.resolve():
        raise SystemExit(f"{link} must be a link to {MONITORING}")
    for sub, pattern in (("rules", "*.yaml"), ("dashboards", "*.json")):
        if not any((MONITORING / sub).glob(pattern)):
            raise SystemExit(f"{MONITORING / sub} holds no {pattern}")


def load_values(files: list[str]) -> dict:
    values: dict = {}
    for f in files:
        values = deep_merge(values, yaml.safe_load((CHART / f).read_text()) or {})
    return values


def render(path: Path, values: dict, upgrade: bool = False, namespace: str = NAMESPACE) -> str:
    chart = helm.Chart.load(path)
    try:
        merged = chart.merge_values(values)
        chart.validate_schema(merged)
        if upgrade:
            files = chart.render(merged, name=RELEASE, namespace=namespace, revision=2,
                                 is_install=False, is_upgrade=True)
        else:
            files = chart.render(merged, name=RELEASE, namespace=namespace, is_install=True)
    finally:
        chart.close()
    docs = []
    for name in sorted(files):
        text = files[name]
        if name.endswith("NOTES.txt") or not text.strip():
            continue
        docs.append(f"# Source: {name}\n{text.strip()}\n")
    return "---\n".join(docs)


def check_stream(name: str, stream: str) -> int:
    seen: set[tuple[str, str]] = set()
    count = 0
    for doc in yaml.safe_load_all(stream):
        if not doc:
            continue
        key = (doc["kind"], doc["metadata"]["name"])
        if key in seen:
            raise SystemExit(f"{name}: {key[0]} {key[1]} is rendered twice")
        seen.add(key)
        count += 1
    return count


def hooks_wait_for_nothing(name: str, stream: str) -> list[str]:
    """Problems of pre-install hooks that read what the same release creates."""
    docs = [d for d in yaml.safe_load_all(stream) if d]
    hooks, created = [], set()
    for d in docs:
        hook = d["metadata"].get("annotations", {}).get("helm.sh/hook", "")
        if "pre-install" in hook:
            hooks.append(d)
            continue
        created.add((d["kind"], d["metadata"]["name"]))
        if d["kind"] == "ExternalSecret":
            created.add(("Secret", d["spec"].get("target", {}).get("name", d["metadata"]["name"])))
        if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io"):
            created.add(("Secret", f"{d['metadata']['name']}-app"))
            for svc in ("rw", "ro", "r"):
                created.add(("Service", f"{d['metadata']['name']}-{svc}"))
    problems = []
    for h in hooks:
        pod = h["spec"].get("template", {}).get("spec", h["spec"])
        reads = set()
        if pod.get("serviceAccountName"):
            reads.add(("ServiceAccount", pod["serviceAccountName"]))
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    reads.add(("Secret", ref["secretKeyRef"]["name"]))
                if "configMapKeyRef" in ref:
                    reads.add(("ConfigMap", ref["configMapKeyRef"]["name"]))
                for svc in re.findall(r"@([a-z0-9-]+)\.", e.get("value", "")):
                    reads.add(("Service", svc))
            for ef in c.get("envFrom", []):
                for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                    if key in ef:
                        reads.add((kind, ef[key]["name"]))
        for v in pod.get("volumes", []):
            if "secret" in v:
                reads.add(("Secret", v["secret"]["secretName"]))
        for kind, ref in sorted(reads & created):
            problems.append(f"{name}: pre-install hook {h['kind']} {h['metadata']['name']} reads "
                            f"{kind} {ref}, which the release creates after it")
    return problems


def render_only(out: Path, files: list[str]) -> int:
    values: dict = {}
    for f in files:
        values = deep_merge(values, yaml.safe_load(Path(f).read_text()) or {})
    out.write_text(render(CHART, values))
    return 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--render":
        return render_only(Path(sys.argv[2]), sys.argv[3:])
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/arcade-deploy/rendered")
    out.mkdir(parents=True, exist_ok=True)
    check_monitoring()
    failures = 0
    for name, files in SCENARIOS.items():
        values = load_values(files)
        lint = helm.lint(CHART, values, strict=True, namespace=NAMESPACE, quiet=True)
        problems = [m for m in lint.get("messages") or [] if m.get("severity", 0) >= 2]
        problems += [{"error": e} for e in lint.get("errors") or []]
        try:
            stream = render(CHART, values)
            n = check_stream(name, stream)
            problems += [{"error": p} for p in hooks_wait_for_nothing(name, stream)]
            # On an upgrade the migration runs before the new pods, as a hook.
            upgraded = [d for d in yaml.safe_load_all(render(CHART, values, upgrade=True)) if d]
            migrate = [d for d in upgraded if d["kind"] == "Job"
                       and d["metadata"]["name"].startswith(f"{RELEASE}-migrate-")]
            if values.get("migrations", {}).get("enabled", True) and not any(
                    d["metadata"]["annotations"].get("helm.sh/hook") == "pre-upgrade" for d in migrate):
                problems.append({"error": "an upgrade does not run the migration as a pre-upgrade hook"})
        except helm.HelmError as e:
            problems.append({"error": f"render: {e}"})
            n = 0
        if problems:
            failures += 1
            for p in problems:
                print(f"FAIL {name}: {p.get('path', '')} {p['error']}")
            continue
        (out / f"{name}.yaml").write_text(stream)
        print(f"ok   {name}: {n} objects ({' + '.join(['values.yaml', *files])})")

    # The rules and dashboards, once per cluster.
    lint = helm.lint(MONITORING_CHART, {}, strict=True, namespace="monitoring", quiet=True)
    problems = [m for m in lint.get("messages") or [] if m.get("severity", 0) >= 2]
    problems += [{"error": e} for e in lint.get("errors") or []]
    try:
        stream = render(MONITORING_CHART, {}, namespace="monitoring")
        n = check_stream("monitoring", stream)
    except helm.HelmError as e:
        problems.append({"error": f"render: {e}"})
    if problems:
        failures += 1
        for p in problems:
            print(f"FAIL monitoring: {p.get('path', '')} {p['error']}")
    else:
        (out / "monitoring.yaml").write_text(stream)
        print(f"ok   monitoring: {n} objects (arcade-monitoring chart, once per cluster)")

    for what, values in BROKEN:
        try:
            render(CHART, deep_merge(load_values([]), values))
        except helm.HelmError as e:
            first = " ".join(str(e).split())[:140]
            print(f"ok   refused {what}: {first}")
            continue
        failures += 1
        print(f"FAIL accepted {what}: {values}")
    print(f"chart: {len(SCENARIOS) + 1 + len(BROKEN) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    helm.disable_logging()
    sys.exit(main())
