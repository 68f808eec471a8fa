"""Checks that the pieces of the promotion path agree, offline:

- argocd-cm's health check of argoproj.io/Application (deploy/argocd/apps/argo-cd.yaml) runs
  under Lua 5.1 (the dialect of Argo CD's gopher-lua) and reports a child Application's own
  health, so the root's sync waves wait;
- Argo CD notifications: every subscription names a defined trigger, every trigger a defined
  template, and the Slack service reads its token from the Secret;
- every Application belongs to an existing AppProject that allows its source and destination,
  and the sync waves put Argo CD first, Kyverno before the policies, the policies before Arcade;
- staging follows main; production follows a version tag whose image tag it pins;
- the admission policy admits exactly what the release workflow signs: its repository, its
  signing identity, the production namespace;
- deploy/ci/bump_image.py changes exactly the lines of the release, for both environments;
- the Terraform environments bootstrap Argo CD from its Application and root, exclude the
  other environment's Arcade, and production's VPC is values-production.yaml's egress CIDR.

- the chart's `helm test` pod (every rendered scenario) calls the release's Service on its port
  at /health/ready, the NetworkPolicies let it, and the binary accepts its command.

Usage: python delivery.py REPO_ROOT WORK_DIR [--rendered DIR] [--arcade BINARY]
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HEALTH_KEY = "resource.customizations.health.argoproj.io_Application"


class Report:
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


def load(path: Path):
    return yaml.safe_load(path.read_text())


def lua_table(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_table(k)}] = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def health_check(script: str, work: Path) -> list[str]:
    """Runs the Lua against child Applications in every state; the verdict must be the child's."""
    lua = shutil.which("lua5.1")
    if not lua:
        return ["lua5.1 is not installed (bash .ci/install-tools.sh)"]
    cases = [
        ({"status": {"health": {"status": "Healthy"}}}, "Healthy", ""),
        ({"status": {"health": {"status": "Progressing", "message": "waiting for rollout"}}},
         "Progressing", "waiting for rollout"),
        ({"status": {"health": {"status": "Degraded", "message": "Rollout aborted"}}},
         "Degraded", "Rollout aborted"),
        ({"status": {"health": {"status": "Missing"}}}, "Missing", ""),
        ({"status": {"sync": {"status": "OutOfSync"}}}, "Progressing", ""),
        ({"metadata": {"name": "just-created"}}, "Progressing", ""),
    ]
    problems = []
    for i, (obj, status, message) in enumerate(cases):
        program = work / f"health-{i}.lua"
        program.write_text(f"obj = {lua_table(obj)}\nlocal function check()\n{script}\nend\n"
                           "local hs = check()\nio.write(hs.status, '|', hs.message)\n")
        run = subprocess.run([lua, str(program)], capture_output=True, text=True)
        got = run.stdout if run.returncode == 0 else f"error: {run.stderr.strip()}"
        if got != f"{status}|{message}":
            problems.append(f"child {obj}: got {got!r}, want {status}|{message}")
    return problems


def notifications(values: dict) -> list[str]:
    n = values.get("notifications", {})
    problems = []
    if not n.get("enabled"):
        problems.append("notifications are not enabled")
    if n.get("secret", {}).get("create", True):
        problems.append("the chart would create argocd-notifications-secret (a token in git)")
    slack = yaml.safe_load(n.get("notifiers", {}).get("service.slack", "") or "{}") or {}
    if not str(slack.get("token", "")).startswith("$"):
        problems.append("service.slack's token is not a reference to the Secret ($key)")
    triggers = {k.removeprefix("trigger."): yaml.safe_load(v) for k, v in n.get("triggers", {}).items()}
    templates = {k.removeprefix("template.") for k in n.get("templates", {})}
    for name, conditions in triggers.items():
        for c in conditions:
            for t in c.get("send", []):
                if t not in templates:
                    problems.append(f"trigger {name} sends undefined template {t}")
    wanted = {"on-sync-failed", "on-health-degraded"}
    subscribed = set()
    for sub in n.get("subscriptions", []):
        for t in sub.get("triggers", []):
            subscribed.add(t)
            if t not in triggers:
                problems.append(f"a subscription names undefined trigger {t}")
        if not any(r.startswith("slack:") for r in sub.get("recipients", [])):
            problems.append(f"subscription {sub} has no Slack recipient")
    if not wanted <= subscribed:
        problems.append(f"no subscription for {sorted(wanted - subscribed)}")
    return problems


def projects_and_waves(argocd: Path) -> tuple[list[str], list[str]]:
    projects = {p["metadata"]["name"]: p["spec"] for p in map(load, argocd.glob("projects/*.yaml"))}
    projects.setdefault("default", {"sourceRepos": ["*"], "destinations": [{"namespace": "*"}]})
    apps = {a["metadata"]["name"]: a for a in map(load, argocd.glob("apps/*.yaml"))}
    problems = []
    for name, app in apps.items():
        spec = app["spec"]
        project = projects.get(spec["project"])
        if project is None:
            problems.append(f"{name}: project {spec['project']} does not exist")
            continue
        sources = spec.get("sources") or [spec["source"]]
        for s in sources:
            if not any(fnmatch.fnmatch(s["repoURL"], r) for r in project.get("sourceRepos", [])):
                problems.append(f"{name}: project {spec['project']} does not allow {s['repoURL']}")
        ns = spec["destination"].get("namespace", "")
        if ns and not any(fnmatch.fnmatch(ns, d.get("namespace", "")) for d in project.get("destinations", [])):
            problems.append(f"{name}: project {spec['project']} does not allow namespace {ns}")
        if "argocd.argoproj.io/sync-wave" not in app["metadata"].get("annotations", {}):
            problems.append(f"{name}: no sync wave")
    wave = {n: int(a["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", 0))
            for n, a in apps.items()}
    order = []
    for before, after in (("argo-cd", "namespaces"), ("kyverno", "image-policies"),
                          ("image-policies", "arcade-production"), ("argo-rollouts", "arcade-production")):
        if before in wave and after in wave and not wave[before] < wave[after]:
            order.append(f"{before} (wave {wave[before]}) must come before {after} (wave {wave[after]})")
        elif before not in wave or after not in wave:
            order.append(f"{before} or {after} is missing from deploy/argocd/apps")
    return problems, order


def promotion(argocd: Path, chart: Path) -> list[str]:
    staging = load(argocd / "apps/arcade-staging.yaml")["spec"]["source"]
    production = load(argocd / "apps/arcade-production.yaml")["spec"]["source"]
    problems = []
    if staging["targetRevision"] != "main":
        problems.append(f"arcade-staging follows {staging['targetRevision']}, not main")
    rev = str(production["targetRevision"])
    if not re.fullmatch(r"v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?", rev):
        problems.append(f"arcade-production follows {rev}, not a version tag")
    image = production.get("helm", {}).get("valuesObject", {}).get("image", {})
    if str(image.get("tag")) != rev.removeprefix("v"):
        problems.append(f"arcade-production pins image {image.get('tag')} for {rev}")
    if not re.fullmatch(r"(sha256:[0-9a-f]{64})?", str(image.get("digest", ""))):
        problems.append(f"arcade-production's image digest {image.get('digest')!r} is not a digest")
    if production.get("path") != staging.get("path") or production.get("repoURL") != staging.get("repoURL"):
        problems.append("the two Arcade Applications deploy different charts")
    return problems


def signatures(root: Path, argocd: Path) -> list[str]:
    policy = load(argocd / "policies/arcade-signed-images.yaml")
    release = load(root / ".github/workflows/release.yml")
    repo_url = load(argocd / "apps/arcade-production.yaml")["spec"]["source"]["repoURL"]
    repo = repo_url.removesuffix(".git")
    prod_ns = load(argocd / "apps/arcade-production.yaml")["spec"]["destination"]["namespace"]
    chart_image = load(root / "deploy/helm/arcade/values.yaml")["image"]["repository"]
    problems = []
    triggers = release.get("on", release.get(True, {}))
    if "workflow_run" not in triggers:
        problems.append("release.yml does not run on workflow_run: its signing identity is not main's")
    if release["env"]["IMAGE"] != chart_image:
        problems.append(f"release.yml pushes {release['env']['IMAGE']}, the chart runs {chart_image}")
    rules = policy["spec"]["rules"]
    identity = f"{repo}/.github/workflows/release.yml@refs/heads/main"
    for rule in rules:
        namespaces = [ns for f in rule["match"].get("any", []) for ns in f["resources"].get("namespaces", [])]
        if namespaces != [prod_ns]:
            problems.append(f"rule {rule['name']} covers {namespaces}, not [{prod_ns}]")
        for v in rule.get("verifyImages", []):
            if not any(fnmatch.fnmatch(f"{chart_image}@sha256:{'0' * 64}", r) for r in v["imageReferences"]):
                problems.append(f"rule {rule['name']} does not cover {chart_image}")
            if v.get("failureAction") != "Enforce" or not v.get("required", True):
                problems.append(f"rule {rule['name']} does not enforce")
            for att in v["attestors"]:
                for e in att["entries"]:
                    k = e.get("keyless", {})
                    if k.get("subject") != identity:
                        problems.append(f"subject {k.get('subject')} is not the release workflow {identity}")
                    if k.get("issuer") != "https://token.actions.githubusercontent.com":
                        problems.append(f"issuer {k.get('issuer')} is not GitHub Actions")
    steps = [s.get("run", "") for j in release["jobs"].values() for s in j.get("steps", [])]
    if not any("cosign sign" in s for s in steps):
        problems.append("release.yml signs nothing with cosign")
    return problems


def bumps(root: Path, work: Path) -> list[str]:
    copy = work / "bump"
    for rel in ("deploy/helm/arcade/values-staging.yaml", "deploy/argocd/apps/arcade-production.yaml"):
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / rel, copy / rel)
    digest = "sha256:" + "ab" * 32
    problems = []
    for env, tag, rel in (("staging", "sha-0123456789ab", "deploy/helm/arcade/values-staging.yaml"),
                          ("production", "v9.8.7", "deploy/argocd/apps/arcade-production.yaml")):
        run = subprocess.run([sys.executable, str(root / "deploy/ci/bump_image.py"), env, tag, digest,
                              str(copy)], capture_output=True, text=True)
        if run.returncode != 0:
            problems.append(f"{env}: {run.stderr.strip()}")
            continue
        before = (root / rel).read_text().splitlines()
        after = (copy / rel).read_text().splitlines()
        changed = sum(1 for a, b in zip(before, after) if a != b) + abs(len(before) - len(after))
        doc = yaml.safe_load((copy / rel).read_text())
        if env == "staging":
            got = (doc["image"]["tag"], doc["image"]["digest"])
            want, lines = (tag, digest), 2
        else:
            src = doc["spec"]["source"]
            img = src["helm"]["valuesObject"]["image"]
            got = (src["targetRevision"], img["tag"], img["digest"])
            want, lines = (tag, tag.removeprefix("v"), digest), 3
        if got != want or changed != lines:
            problems.append(f"{env}: got {got} in {changed} changed lines, want {want} in {lines}")
    bad = subprocess.run([sys.executable, str(root / "deploy/ci/bump_image.py"), "production",
                          "sha-0123456789ab", digest, str(copy)], capture_output=True, text=True)
    if bad.returncode == 0:
        problems.append("production accepted a commit image instead of a release version")
    return problems


def terraform(root: Path) -> list[str]:
    problems = []
    for env, other in (("staging", "production"), ("production", "staging")):
        text = (root / f"deploy/terraform/envs/{env}/main.tf").read_text()
        for needle in ('file("${path.module}/../../../argocd/apps/argo-cd.yaml")',
                       'file("${path.module}/../../../argocd/bootstrap/root.yaml")',
                       f'gitops_exclude              = "apps/arcade-{other}.yaml"'):
            if needle not in text:
                problems.append(f"envs/{env}/main.tf lacks {needle}")
    root_app = load(root / "deploy/argocd/bootstrap/root.yaml")
    if "directory" not in root_app["spec"]["source"]:
        problems.append("the root Application is not a directory source (gitops_exclude needs one)")
    return problems


def helm_test_pods(rendered: Path, arcade: str | None) -> list[str]:
    """The chart's `helm test` pod calls the release's Service on its port, at /health/ready,
    may reach it through the NetworkPolicies, and runs a command the binary accepts."""
    problems, pods = [], 0
    for f in sorted(rendered.glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(f.read_text()) if d]
        for pod in (d for d in docs if d["kind"] == "Pod"):
            meta = pod["metadata"]
            if meta.get("annotations", {}).get("helm.sh/hook") != "test":
                problems.append(f"{f.stem}: Pod {meta['name']} is not a helm test hook")
                continue
            pods += 1
            where = f"{f.stem}: test pod {meta['name']}"
            args = pod["spec"]["containers"][0].get("args", [])
            m = re.fullmatch(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc:([0-9]+)(/.*)", args[2]) \
                if args[:2] == ["healthcheck", "--url"] and len(args) == 3 else None
            if not m:
                problems.append(f"{where}: args {args} are not `healthcheck --url http://SERVICE.NS.svc:PORT/...`")
                continue
            name, ns, port, path = m.group(1), m.group(2), int(m.group(3)), m.group(4)
            services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
            servers = [d for d in docs if d["kind"] in ("Deployment", "Rollout")
                       and d["metadata"]["labels"].get("app.kubernetes.io/component") == "server"]
            svc = services.get(name)
            if ns != meta["namespace"] or svc is None:
                problems.append(f"{where}: calls {name}.{ns}, which this release does not render")
                continue
            if port not in [p["port"] for p in svc["spec"]["ports"]] or path != "/health/ready":
                problems.append(f"{where}: calls port {port} path {path}, not the Service's port and /health/ready")
            if not servers or svc["spec"]["selector"] != servers[0]["spec"]["selector"]["matchLabels"]:
                problems.append(f"{where}: Service {name} does not select every server pod")
            labels = meta.get("labels", {})
            for np in (d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name):
                if not set(np["spec"]["podSelector"]["matchLabels"].items()) <= set(labels.items()):
                    problems.append(f"{where}: the release's NetworkPolicy {name} does not cover it")
    if pods == 0:
        problems.append(f"no helm test pod rendered in {rendered}")
    if arcade:
        run = subprocess.run([arcade, "healthcheck", "--help"], capture_output=True, text=True)
        if run.returncode != 0 or "--url" not in run.stdout:
            problems.append(f"`arcade healthcheck --help` does not offer --url: {run.stdout}{run.stderr}")
    return problems


def main() -> int:
    args = sys.argv[1:]
    options = dict(zip(args[2::2], args[3::2]))
    root, work = Path(args[0]).resolve(), Path(args[1])
    work.mkdir(parents=True, exist_ok=True)
    argocd = root / "deploy/argocd"
    report = Report()
    values = load(argocd / "apps/argo-cd.yaml")["spec"]["source"]["helm"]["valuesObject"]
    script = values.get("configs", {}).get("cm", {}).get(HEALTH_KEY)
    report.check("argocd-cm's Application health check reports the child's health (lua5.1)",
                 health_check(script, work) if script else [f"no {HEALTH_KEY} in argocd-cm"])
    report.check("Argo CD notifications: sync failures and Degraded to Slack", notifications(values))
    apps, order = projects_and_waves(argocd)
    report.check("every Application's project allows its source and destination", apps)
    report.check("sync waves: Argo CD, the controllers, the policies, then Arcade", order)
    report.check("staging follows main, production a version tag and its image",
                 promotion(argocd, root / "deploy/helm/arcade"))
    report.check("the admission policy admits what release.yml signs, in production",
                 signatures(root, argocd))
    report.check("bump_image.py changes exactly the release's lines", bumps(root, work))
    report.check("Terraform bootstraps Argo CD from git, one Arcade per cluster", terraform(root))
    if "--rendered" in options:
        report.check("the helm test pod calls the release's Service through its NetworkPolicy",
                     helm_test_pods(Path(options["--rendered"]), options.get("--arcade")))
    print(f"delivery: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
