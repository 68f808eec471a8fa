"""Strict checks of rendered manifests beyond the Kubernetes schemas:

- every custom resource against its committed strict schema (deploy/ci/schemas), so an
  unknown or misspelt field fails (the upstream validators let unknown fields pass), or,
  for kinds without a validator package (CloudNativePG), against the upstream CRD's own
  OpenAPI schema (deploy/ci/crds), made strict the same way;
- the pod template of each Argo Rollout is written out as a Deployment so that
  kubernetes-validate checks it like any other pod (pass --pod-templates FILE);
- the PrometheusRule and the Grafana dashboard ConfigMap hold exactly the content of
  deploy/monitoring (or the fixtures while it is not there), one source of truth.

Usage: python validate_strict.py [--pod-templates OUT.yaml] [--monitoring DIR] FILE...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "schemas"
CRDS = HERE / "crds"
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
                  "rbac.authorization.k8s.io"}


def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def strict(schema):
    """The CRD schema with unknown fields refused wherever it lists the known ones."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_schemas() -> dict:
    """(apiVersion, kind) -> strict schema of every committed upstream CRD."""
    found = {}
    for f in sorted(CRDS.glob("*/*.yaml")):
        crd = yaml.safe_load(f.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            schema = strict(v["schema"]["openAPIV3Schema"])
            # The metadata is the API server's; apiVersion and kind are checked by the key.
            schema["properties"]["metadata"] = {"type": "object"}
            found[(f"{group}/{v['name']}", kind)] = schema
    return found


def rule_groups(monitoring: Path) -> list:
    groups = []
    for f in sorted((monitoring / "rules").glob("*.yaml")):
        doc = yaml.safe_load(f.read_text()) or {}
        groups += doc.get("groups", [])
    return groups


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pod-templates")
    ap.add_argument("--monitoring", type=Path)
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()

    failed = passed = 0
    pods = []
    upstream = crd_schemas()
    for path in args.files:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            api, kind, name = doc["apiVersion"], doc["kind"], doc["metadata"]["name"]
            where = f"{path.name}: {kind} {name}"
            problems: list[str] = []
            if (api, kind) in upstream:
                v = jsonschema.Draft7Validator(upstream[(api, kind)])
                problems += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                             for e in v.iter_errors(doc)]
            elif group_of(api) not in BUILTIN_GROUPS:
                schema_file = SCHEMAS / f"{api.replace('/', '_')}_{kind}.json"
                if not schema_file.exists():
                    problems.append(f"no committed schema {schema_file.name}")
                else:
                    schema = json.loads(schema_file.read_text())
                    v = jsonschema.Draft7Validator(schema)
                    problems += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                                 for e in v.iter_errors(doc)]
            if kind == "Rollout":
                pods.append({"apiVersion": "apps/v1", "kind": "Deployment",
                             "metadata": {"name": f"{name}-pod-template"},
                             "spec": {"selector": doc["spec"]["selector"],
                                      "template": doc["spec"]["template"]}})
            if args.monitoring and kind == "PrometheusRule":
                if doc["spec"]["groups"] != rule_groups(args.monitoring):
                    problems.append(f"groups differ from {args.monitoring}/rules/*.yaml")
            if args.monitoring and kind == "ConfigMap" and "grafana_dashboard" in doc["metadata"].get("labels", {}):
                for key, text in doc["data"].items():
                    src = args.monitoring / "dashboards" / key
                    if not src.exists() or src.read_text() != text:
                        problems.append(f"{key} differs from {src}")
            if problems:
                failed += 1
                for p in problems:
                    print(f"FAIL {where}: {p}")
            else:
                passed += 1
    if args.pod_templates:
        Path(args.pod_templates).write_text(yaml.safe_dump_all(pods) if pods else "")
    print(f"strict manifests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
