"""Checks deploy/terraform offline. `terraform init` needs the provider and module registries,
which this machine cannot reach: the hosted CI job (terraform in .github/workflows/ci.yml)
runs fmt -check, init -backend=false and validate. Here:

- every .tf file parses (python-hcl2);
- every variable has a type and a description, every output a description;
- every root and module pins Terraform and its providers, and every registry module is pinned
  to an exact version;
- the module README's Inputs and Outputs tables list exactly the module's variables and
  outputs;
- every templatefile() passes exactly the variables its template uses; the Karpenter templates
  are rendered with each environment's values into OUT_DIR (for the CRD validators);
- every checkov skip says why;
- terraform fmt -check, when a terraform binary is on PATH.

Usage: python terraform_check.py TERRAFORM_DIR OUT_DIR
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import hcl2

EXACT_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
PLACEHOLDER = re.compile(r"\$\{\s*(?:(jsonencode)\(\s*([a-z_]+)\s*\)|([a-z_]+))\s*\}")
TEMPLATEFILE = re.compile(
    r'templatefile\("\$\{path\.module\}/templates/([^"]+)",\s*\{(.*?)\n\s*\}\)', re.S)
SKIP = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def unquote(value):
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not k.startswith("__")}
    return value


def blocks(doc: dict, kind: str) -> dict[str, dict]:
    out = {}
    for entry in doc.get(kind, []):
        for name, body in entry.items():
            out[unquote(name)] = body
    return out


def table_names(readme: str, heading: str) -> set[str]:
    section = readme.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, re.M))


def render(template: str, values: dict) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(2) or m.group(3)
        return json.dumps(values[name]) if m.group(1) else str(values[name])
    return PLACEHOLDER.sub(sub, template)


class Report:
    """Named checks, each passing or failing with its problems."""

    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, what: str, problems: list[str]) -> None:
        if problems:
            self.failed += 1
            print(f"FAIL {what}")
            for p in problems:
                print(f"       {p}")
        else:
            self.passed += 1
            print(f"ok   {what}")


def main() -> int:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    report = Report()

    files = sorted(root.rglob("*.tf"))
    parsed: dict[Path, dict] = {}
    problems = []
    for f in files:
        try:
            with f.open() as fh:
                parsed[f] = hcl2.load(fh)
        except Exception as e:  # python-hcl2 raises lark errors of several kinds
            problems.append(f"{f}: {e}")
    report.check(f"{len(files)} .tf files parse (python-hcl2)", problems)

    problems, variables, outputs = [], 0, 0
    for f, doc in parsed.items():
        for name, body in blocks(doc, "variable").items():
            variables += 1
            for key in ("type", "description"):
                if not str(unquote(body.get(key, ""))).strip():
                    problems.append(f"{f}: variable {name} has no {key}")
        for name, body in blocks(doc, "output").items():
            outputs += 1
            if not str(unquote(body.get("description", ""))).strip():
                problems.append(f"{f}: output {name} has no description")
    report.check(f"{variables} variables have a type and a description, {outputs} outputs a description",
                 problems)

    problems = []
    for f, doc in parsed.items():
        for name, body in blocks(doc, "module").items():
            source = unquote(body["source"])
            version = str(unquote(body.get("version", "")))
            if not source.startswith(".") and not EXACT_VERSION.match(version):
                problems.append(f"{f}: module {name} ({source}) is not pinned: {version!r}")
        for tf in doc.get("terraform", []):
            for req in tf.get("required_providers", []):
                for provider, spec in unquote(req).items():
                    if "version" not in spec:
                        problems.append(f"{f}: provider {provider} has no version constraint")
    for d in sorted({f.parent for f in files}):
        if not any("required_version" in tf for f in d.glob("*.tf")
                   for tf in parsed.get(f, {}).get("terraform", [])):
            problems.append(f"{d}: no terraform block with required_version")
    report.check("Terraform, providers and registry modules are pinned", problems)

    module = root / "modules/cluster"
    readme = (module / "README.md").read_text()
    problems = []
    for heading, kind in (("Inputs", "variable"), ("Outputs", "output")):
        names = {n for f in module.glob("*.tf") for n in blocks(parsed[f], kind)}
        listed = table_names(readme, heading)
        if listed != names:
            problems.append(f"{heading}: missing {sorted(names - listed)}, unknown {sorted(listed - names)}")
    report.check(f"{module / 'README.md'} tables list the module's inputs and outputs", problems)

    problems, calls = [], 0
    for f in module.glob("*.tf"):
        for tpl, args in TEMPLATEFILE.findall(f.read_text()):
            calls += 1
            passed = set(re.findall(r"^\s*([a-z_]+)\s*=", args, re.M))
            text = (module / "templates" / tpl).read_text()
            used = {m.group(2) or m.group(3) for m in PLACEHOLDER.finditer(text)}
            if passed != used:
                problems.append(f"{f.name}: templatefile({tpl}) passes {sorted(passed)}, uses {sorted(used)}")
            if re.search(r"%\{", PLACEHOLDER.sub("", text)) or "${" in PLACEHOLDER.sub("", text):
                problems.append(f"{tpl}: template syntax this check cannot render")
    if calls == 0:
        problems.append("no templatefile() call found")
    # The Karpenter manifests with each environment's own values, for the CRD validators.
    for env_dir in sorted((root / "envs").iterdir()):
        call = unquote(blocks(parsed[env_dir / "main.tf"], "module")["cluster"])
        k = call["karpenter"]
        values = {
            "cluster_name": call["name"], "node_role": f"{call['name']}-karpenter-node",
            "ami_alias": k["ami_alias"], "environment": call["environment"],
            "instance_categories": k["instance_categories"], "capacity_types": k["capacity_types"],
            "zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"], "cpu_limit": k["cpu_limit"],
            "memory_limit_gib": k["memory_limit_gib"],
        }
        docs = [render((module / "templates" / t).read_text(), values)
                for t in ("ec2nodeclass.yaml.tftpl", "nodepool.yaml.tftpl")]
        (out / f"karpenter-{env_dir.name}.yaml").write_text("---\n".join(docs))
    report.check(f"{calls} templatefile() calls pass what their templates use; rendered into {out}",
                 problems)

    problems, skips = [], 0
    for f in files:
        for m in SKIP.finditer(f.read_text()):
            skips += 1
            if not (m.group(2) or "").strip():
                problems.append(f"{f}: checkov skip {m.group(1)} without a reason")
    report.check(f"{skips} checkov skips each say why", problems)

    terraform = shutil.which("terraform")
    if terraform:
        fmt = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", str(root)],
                             capture_output=True, text=True)
        report.check("terraform fmt -check", [fmt.stdout + fmt.stderr] if fmt.returncode else [])
    else:
        print("note no terraform binary here: fmt -check, init and validate run in hosted CI")

    print(f"terraform: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
