"""Render the Helm chart with Helm's own engine (helm-python-sdk) for every values file,
lint it strictly, and prove that broken values fail.

Writes one manifest stream per scenario to OUT/<scenario>.yaml for the validators that run
next (.ci/deploy.sh). Exits non-zero on any failure.

The chart reads its alert rules and dashboard through files/monitoring, a link to
deploy/monitoring (one source of truth). While deploy/monitoring has no rule file or no
dashboard yet, a copy of the chart with deploy/ci/fixtures/monitoring filling the gaps is
rendered instead, and the run says so.
"""

from __future__ import annotations

import copy
import shutil
import sys
import tempfile
from pathlib import Path

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/arcade"
MONITORING = ROOT / "deploy/monitoring"
FIXTURES = ROOT / "deploy/ci/fixtures/monitoring"
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
    ("external NATS without a URL", {"nats": {"bundled": {"enabled": False}}}),
    ("two broadcasters on one durable consumer", {"broadcaster": {"replicas": 2}}),
    ("an empty Secret name", {"secrets": {"existingSecret": ""}}),
    ("a secret value inlined", {"secrets": {"databaseUrl": "postgres://u:p@db/arcade"}}),
    ("an invalid image digest", {"image": {"digest": "latest"}}),
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


def monitoring_complete() -> bool:
    return any((MONITORING / "rules").glob("*.yaml")) and any(
        (MONITORING / "dashboards").glob("*.json")
    )


def effective_monitoring(dest: Path) -> None:
    """Copy the monitoring content the tests use (deploy/monitoring, fixtures for what is
    missing there) to DEST, for the validators and the consistency test."""
    shutil.rmtree(dest, ignore_errors=True)
    for sub, pattern in (("rules", "*.yaml"), ("dashboards", "*.json"), ("alertmanager", "*.yaml")):
        src = MONITORING / sub if any((MONITORING / sub).glob(pattern)) else FIXTURES / sub
        shutil.copytree(src, dest / sub)


def chart_dir(tmp: Path) -> Path:
    """The chart to render: the real one, or a copy whose files/monitoring fills the gaps
    of deploy/monitoring with the fixtures."""
    if monitoring_complete():
        print(f"monitoring content: {MONITORING.relative_to(ROOT)} (through the chart's link)")
        return CHART
    copy_dir = tmp / "arcade"
    shutil.copytree(CHART, copy_dir, symlinks=True)
    link = copy_dir / "files/monitoring"
    link.unlink()
    for sub, pattern in (("rules", "*.yaml"), ("dashboards", "*.json")):
        src = MONITORING / sub if any((MONITORING / sub).glob(pattern)) else FIXTURES / sub
        print(f"monitoring {sub}: {src.relative_to(ROOT)}")
        shutil.copytree(src, link / sub)
    return copy_dir


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
    effective_monitoring(out.parent / "monitoring")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = chart_dir(Path(tmp))
        for name, files in SCENARIOS.items():
            values = load_values(files)
            lint = helm.lint(path, values, strict=True, namespace=NAMESPACE, quiet=True)
            problems = [m for m in lint.get("messages") or [] if m.get("severity", 0) >= 2]
            problems += [{"error": e} for e in lint.get("errors") or []]
            try:
                stream = render(path, values)
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
                render(path, deep_merge(load_values([]), values))
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
