"""Render the Helm chart with Helm's own engine (helm-python-sdk) for every values file,
lint it strictly, and prove that broken values fail.

Writes one manifest stream per scenario to OUT/<scenario>.yaml for the validators that run
next (.ci/deploy.sh). Exits non-zero on any failure.

The chart reads its alert rules and dashboard through files/monitoring, a link to
deploy/monitoring (one source of truth); Helm's loader follows it (and says so on stderr).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/arcade"
MONITORING = ROOT / "deploy/monitoring"
RELEASE, NAMESPACE = "arcade", "arcade"

# name -> values files applied in order on top of values.yaml
SCENARIOS: dict[str, list[str]] = {
    "defaults": [],
    "staging": ["values-staging.yaml"],
    "production": ["values-production.yaml"],
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
    """The chart's monitoring content comes from deploy/monitoring through files/monitoring."""
    link = CHART / "files/monitoring"
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


def render(path: Path, values: dict) -> str:
    chart = helm.Chart.load(path)
    try:
        merged = chart.merge_values(values)
        chart.validate_schema(merged)
        files = chart.render(merged, name=RELEASE, namespace=NAMESPACE, is_install=True)
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


def main() -> int:
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

    for what, values in BROKEN:
        try:
            render(CHART, deep_merge(load_values([]), values))
        except helm.HelmError as e:
            first = " ".join(str(e).split())[:140]
            print(f"ok   refused {what}: {first}")
            continue
        failures += 1
        print(f"FAIL accepted {what}: {values}")
    print(f"chart: {len(SCENARIOS) + len(BROKEN) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    helm.disable_logging()
    sys.exit(main())
