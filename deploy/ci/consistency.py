"""Proves that the deployment artifacts agree with the `arcade` binary.

1. Environment: every container of the rendered chart scenarios and of the compose file that
   runs `arcade ROLE` is given only variables that `arcade check-config ROLE` accepts (the
   binary itself decides, in a clean environment holding exactly that container's variables;
   secret references get sample values of the right shape).
2. Ports: the container port, the Service target, the probes and the compose port mapping
   all point at the port of ARCADE_LISTEN; the Dockerfile's EXPOSE matches its default
   command's --listen.
3. Probe paths: every HTTP probe path of the chart, and the compose/Docker health check's
   /health/ready, answers 200 on a running server (embedded mode, on loopback).
4. Metrics: every arcade_*/process_* metric named in the alert rules, the dashboard and the
   canary analysis is in METRIC_NAMES (crates/arcade-telemetry/src/metrics.rs); every
   arcade_* family a live scrape of /metrics shows is in METRIC_NAMES too.
5. The platform (deploy/argocd): every Secret key a pod reads is one its writer writes (the
   ExternalSecret, or CloudNativePG's app Secret), the database URLs name the rendered
   Cluster's services (the migration the primary itself), the Redis Sentinel addresses,
   master name and ports are those of the redis-ha Application, NATS' stream replicas fit
   its cluster, the OTLP endpoint is the collector Application's OTLP/HTTP port, and the
   NetworkPolicy lets each of those through.

Usage: python consistency.py --arcade BIN --rendered DIR --compose FILE --monitoring DIR
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"serve", "migrate", "notify"}
# Roles that serve health and metrics on ARCADE_LISTEN.
LISTENING = {"serve", "notify"}
# Former command names the binary still takes, judged as the role they name.
ALIASES = {"broadcast": "notify"}
# Sample values for secret references, shaped like production's.
SECRET_SAMPLES = {
    "DATABASE_URL": "postgres://arcade:sample@postgres:5432/arcade",
    "DATABASE_READ_URL": "postgres://arcade:sample@postgres-replica:5432/arcade",
    "REDIS_URL": "redis://:sample@redis:6379",
    "REDIS_PASSWORD": "sample",
    "DATABASE_PASSWORD": "sample",
    "NATS_URL": "nats://arcade:sample@nats.nats.svc:4222",
    "ARCADE_SESSION_SECRET": "sample-session-secret-of-thirty-two-bytes-or-more",
    "ARCADE_DISCORD_WEBHOOK_URL": "https://discord.example.invalid/api/webhooks/1/sample",
    "ARCADE_SLACK_WEBHOOK_URL": "https://hooks.slack.example.invalid/services/sample",
}

results = {"passed": 0, "failed": 0}


def ok(msg: str) -> None:
    results["passed"] += 1
    print(f"ok   {msg}")


def fail(msg: str) -> None:
    results["failed"] += 1
    print(f"FAIL {msg}")


def check(cond: bool, msg: str) -> None:
    ok(msg) if cond else fail(msg)


def listen_port(value: str) -> int:
    return int(value.rsplit(":", 1)[1])


# ---------------------------------------------------------------- containers from artifacts
def chart_containers(rendered: Path):
    """(where, role, env, container, pod_spec, objects) for each arcade container."""
    for f in sorted(rendered.glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(f.read_text()) if d]
        configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
        for d in docs:
            spec = d.get("spec", {})
            if d["kind"] == "CronJob":
                continue
            pod = spec.get("template", {}).get("spec") if d["kind"] != "Pod" else spec
            if not pod:
                continue
            for c in pod.get("containers", []):
                args = c.get("args") or []
                if not args or ALIASES.get(args[0], args[0]) not in ROLES | {"healthcheck"}:
                    continue
                env: dict[str, str | None] = {}
                for ef in c.get("envFrom", []):
                    name = ef["configMapRef"]["name"]
                    if name not in configmaps:
                        fail(f"{f.name}: {d['kind']} {d['metadata']['name']} reads ConfigMap {name}, which is not rendered")
                    env.update(configmaps.get(name, {}))
                for e in c.get("env", []):
                    env[e["name"]] = e.get("value", SECRET_SAMPLES.get(e["name"], "sample"))
                role = ALIASES.get(args[0], args[0])
                yield f"{f.stem}: {d['kind']} {d['metadata']['name']}", role, env, c, pod, (d, docs)


def compose_services(compose: Path):
    env_file = Path(tempfile.mkstemp(suffix=".env")[1])
    example = (ROOT / ".env.example").read_text()
    env_file.write_text(re.sub(r"^(\w*(?:PASSWORD|SECRET))=$", r"\1=sample-secret-of-thirty-two-bytes-or-more",
                               example, flags=re.M))
    out = subprocess.run(["docker-compose", "--env-file", str(env_file), "-f", str(compose), "config"],
                         check=True, capture_output=True, text=True).stdout
    env_file.unlink()
    return yaml.safe_load(out)["services"]


# ---------------------------------------------------------------- 1. environment
_HELP_ENV: dict[str, set[str]] = {}


def help_env(arcade: str, role: str) -> set[str]:
    """The variables `arcade ROLE --help` documents (clap prints `[env: NAME=...]`)."""
    if role not in _HELP_ENV:
        out = subprocess.run([arcade, role, "--help"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
        _HELP_ENV[role] = set(re.findall(r"\[env: ([A-Z0-9_]+)", out.stdout)) if out.returncode == 0 else set()
    return _HELP_ENV[role]


def check_env(arcade: str, where: str, role: str, env: dict) -> None:
    # check-config judges ARCADE_* names; names without the prefix (DATABASE_URL, REDIS_URL,
    # ...) must at least be settings the role documents, or they are silently ignored.
    other = sorted(k for k in env if not k.startswith("ARCADE_") and k not in help_env(arcade, role))
    check(not other, f"env of {where}: every non-ARCADE_ name is a setting of `arcade {role} --help`"
          + (f"; not: {other}" if other else ""))
    full = {k: (v if v is not None else SECRET_SAMPLES.get(k, "sample")) for k, v in env.items()}
    proc = subprocess.run([arcade, "check-config", role], env={"PATH": "/usr/bin:/bin", **full},
                          capture_output=True, text=True)
    detail = (proc.stdout + proc.stderr).strip().replace("\n", " | ")
    check(proc.returncode == 0,
          f"env of {where} accepted by `arcade check-config {role}` ({', '.join(sorted(full))})"
          + ("" if proc.returncode == 0 else f": {detail}"))


# ---------------------------------------------------------------- 2. ports
def check_chart_ports(where, role, env, c, pod, objs) -> None:
    if role not in LISTENING:
        return
    port = listen_port(env["ARCADE_LISTEN"])
    named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    check(port in named.values(), f"{where}: containerPort {sorted(named.values())} includes ARCADE_LISTEN's {port}")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = c.get(probe, {}).get("httpGet")
        if not http:
            fail(f"{where}: {probe} is not an HTTP probe")
            continue
        p = http["port"]
        check(named.get(p, p) == port, f"{where}: {probe} {http['path']} targets port {named.get(p, p)}")
    d, docs = objs
    labels = pod and d["spec"]["template"]["metadata"]["labels"]
    for svc in (x for x in docs if x["kind"] == "Service" and x["spec"].get("selector")):
        if all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()):
            for sp in svc["spec"]["ports"]:
                t = sp["targetPort"]
                check(named.get(t, t) == port, f"{where}: Service {svc['metadata']['name']} targets {t} = {named.get(t, t)}")


def probe_paths(rendered: Path) -> set[str]:
    paths = set()
    for where, role, env, c, pod, _ in chart_containers(rendered):
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            http = c.get(probe, {}).get("httpGet")
            if http:
                paths.add(http["path"])
    return paths


# ---------------------------------------------------------------- 3 and 4. a live server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric_names_in(text: str) -> set[str]:
    names = set(re.findall(r"\b((?:arcade|process)_[a-z0-9_]+)\b", text))
    return {re.sub(r"_(bucket|count|sum|created)$", "", n) for n in names}


def exprs_of_dashboard(obj) -> list[str]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("expr", "query") and isinstance(v, str):
                out.append(v)
            else:
                out += exprs_of_dashboard(v)
    elif isinstance(obj, list):
        for v in obj:
            out += exprs_of_dashboard(v)
    return out


# ---------------------------------------------------------------- 5. the platform
def argocd_apps(argocd: Path) -> dict:
    apps = {}
    for f in sorted((argocd / "apps").glob("*.yaml")):
        d = yaml.safe_load(f.read_text())
        apps[d["metadata"]["name"]] = d
    return apps


def values_of(app: dict) -> dict:
    return app["spec"]["source"].get("helm", {}).get("valuesObject", {})


def egress_allows(docs: list, namespace: str | None, port: int, pod_labels: dict | None = None) -> bool:
    """Whether a NetworkPolicy of the render lets the release's pods reach `port` in
    `namespace` (by namespace selector), or pods with `pod_labels` in their own namespace."""
    for d in docs:
        if d["kind"] != "NetworkPolicy" or "Egress" not in d["spec"].get("policyTypes", []):
            continue
        for rule in d["spec"].get("egress", []):
            ports = {p.get("port") for p in rule.get("ports", [])}
            if rule.get("ports") and port not in ports:
                continue
            for peer in rule.get("to", []):
                ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                pods = peer.get("podSelector", {}).get("matchLabels", {})
                if namespace and ns == namespace:
                    return True
                if pod_labels and not ns and pods and all(pod_labels.get(k) == v for k, v in pods.items()):
                    return True
    return False


def check_platform(rendered: Path, argocd: Path) -> None:
    apps = argocd_apps(argocd)
    # Every Application's source is one its project allows, and lands in a namespace the
    # namespaces Application creates (wave -10) or one its chart creates itself.
    projects = {}
    for f in sorted((argocd / "projects").glob("*.yaml")):
        d = yaml.safe_load(f.read_text())
        projects[d["metadata"]["name"]] = d["spec"]
    namespaces = {yaml.safe_load(f.read_text())["metadata"]["name"] for f in (argocd / "namespaces").glob("*.yaml")}
    for name, app in sorted(apps.items()):
        project = projects.get(app["spec"]["project"], {})
        repo = app["spec"]["source"]["repoURL"]
        check(repo in project.get("sourceRepos", []),
              f"Application {name}: its source {repo} is allowed by project {app['spec']['project']}")
        ns = app["spec"]["destination"].get("namespace")
        if ns and ns != "argocd":
            check(ns in namespaces, f"Application {name}: namespace {ns} is created by deploy/argocd/namespaces")
    for f in sorted(argocd.glob("*/*.yaml")):
        for d in yaml.safe_load_all(f.read_text()):
            ns = (d or {}).get("metadata", {}).get("namespace")
            if d and d["kind"] not in ("Application", "AppProject") and ns:
                check(ns in namespaces, f"{f.parent.name}/{f.name}: {d['kind']} {d['metadata']['name']} is in namespace {ns}, which deploy/argocd/namespaces creates")
    for f in sorted(rendered.glob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(f.read_text()) if d]
        where = f.stem
        ns = next((d["metadata"].get("namespace") for d in docs if d["metadata"].get("namespace")), "arcade")
        # Who writes which Secret, with which keys.
        written: dict[str, set[str] | None] = {}
        for d in docs:
            if d["kind"] == "ExternalSecret":
                written[d["spec"]["target"]["name"]] = {x["secretKey"] for x in d["spec"].get("data", [])}
            if d["kind"] == "Secret":
                written[d["metadata"]["name"]] = set(d.get("stringData", {})) | set(d.get("data", {}))
            if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io"):
                # CloudNativePG's app Secret of the database owner (kubernetes.io/basic-auth).
                written[f"{d['metadata']['name']}-app"] = {"username", "password", "uri", "host",
                                                           "port", "dbname", "pgpass", "jdbc-uri"}
        for d in docs:
            if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io"):
                creds = d["spec"].get("backup", {}).get("barmanObjectStore", {}).get("s3Credentials", {})
                for ref in (creds.get("accessKeyId"), creds.get("secretAccessKey")):
                    if ref:
                        keys = written.get(ref["name"])
                        check(keys is not None and ref["key"] in keys,
                              f"{where}: Cluster {d['metadata']['name']} reads {ref['name']}/{ref['key']}, which its ExternalSecret writes")
        clusters = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Cluster"}
        poolers = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Pooler"}
        for d in docs:
            pod = (d.get("spec", {}).get("template", {}) or {}).get("spec")
            if not pod:
                continue
            labels = d["spec"]["template"].get("metadata", {}).get("labels", {})
            for c in pod.get("containers", []):
                args = c.get("args") or []
                role = ALIASES.get(args[0], args[0]) if args else None
                if role not in ROLES:
                    continue
                env = {e["name"]: e for e in c.get("env", [])}
                for e in env.values():
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref and ref["name"] in written:
                        check(ref["key"] in written[ref["name"]],
                              f"{where}: {d['kind']} {d['metadata']['name']} {e['name']} reads key {ref['key']} of {ref['name']}, which its writer writes")
                for name in ("DATABASE_URL", "DATABASE_READ_URL"):
                    value = env.get(name, {}).get("value")
                    if not value:
                        continue
                    m = re.match(r"postgresql://[^@/]+@([a-z0-9-]+)\.([a-z0-9-]+)\.svc:(\d+)/", value)
                    if not m:
                        fail(f"{where}: {name} {value} is not a CloudNativePG service URL")
                        continue
                    svc, svc_ns, port = m.group(1), m.group(2), int(m.group(3))
                    known = {f"{c}-{s}": ("primary" if s == "rw" else "replicas") for c in clusters for s in ("rw", "ro", "r")}
                    known |= {p: f"pooler-{poolers[p]['spec']['type']}" for p in poolers}
                    check(svc in known and svc_ns == ns and port == 5432,
                          f"{where}: {d['kind']} {d['metadata']['name']} {name} names {svc}.{svc_ns}:{port}, a service of the rendered Cluster or Pooler")
                    if role == "migrate":
                        check(known.get(svc) == "primary", f"{where}: the migration's DATABASE_URL is the primary itself ({svc})")
                    if name == "DATABASE_READ_URL":
                        check(known.get(svc) == "replicas", f"{where}: DATABASE_READ_URL reads the replicas ({svc})")
                    check(egress_allows(docs, None, 5432, {"cnpg.io/cluster": next(iter(clusters), "")}),
                          f"{where}: the NetworkPolicy lets the release reach the Cluster's pods on 5432")
                    if name == "DATABASE_URL":
                        check("DATABASE_PASSWORD" in env, f"{where}: {d['kind']} {d['metadata']['name']} has DATABASE_PASSWORD beside a password-less DATABASE_URL")
        configs = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
        for cm_name, data in configs.items():
            redis_url = data.get("REDIS_URL", "")
            if redis_url.startswith("redis+sentinel://") and "redis-ha" in apps:
                rv = values_of(apps["redis-ha"])
                rns = apps["redis-ha"]["spec"]["destination"]["namespace"]
                release = apps["redis-ha"]["spec"]["source"]["helm"]["releaseName"]
                hosts, service = redis_url[len("redis+sentinel://"):].split("/", 1)
                expected = {f"{release}-announce-{i}.{rns}.svc:26379" for i in range(rv["replicas"])}
                check(set(hosts.split(",")) == expected,
                      f"{where}: ConfigMap {cm_name} REDIS_URL names every Sentinel of the redis-ha Application ({len(expected)})")
                check(service.split("/")[0] == rv["redis"]["masterGroupName"],
                      f"{where}: REDIS_URL's service is redis-ha's master group ({rv['redis']['masterGroupName']})")
                check(rv.get("auth") and rv["sentinel"].get("auth"), f"{where}: redis-ha requires the password Arcade is given")
                for port in (26379, 6379):
                    check(egress_allows(docs, rns, port), f"{where}: the NetworkPolicy lets the release reach {rns} on {port}")
            replicas = int(data.get("ARCADE_NATS_STREAM_REPLICAS", "1"))
            if replicas > 1:
                nv = values_of(apps["nats"])["config"]
                check(nv["cluster"]["enabled"] and replicas <= nv["cluster"]["replicas"] and nv["jetstream"]["enabled"],
                      f"{where}: ConfigMap {cm_name} asks {replicas} stream replicas of a {nv['cluster']['replicas']}-node JetStream cluster")
                nns = apps["nats"]["spec"]["destination"]["namespace"]
                check(egress_allows(docs, nns, 4222), f"{where}: the NetworkPolicy lets the release reach {nns} on 4222")
            otlp = data.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            if otlp:
                app = apps["opentelemetry-collector"]
                svc = app["spec"]["source"]["helm"]["releaseName"]
                ons = app["spec"]["destination"]["namespace"]
                http = values_of(app)["config"]["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
                m = re.match(r"http://([a-z0-9-]+)\.([a-z0-9-]+)(?:\.svc)?:(\d+)$", otlp)
                check(bool(m) and (m.group(1), m.group(2)) == (svc, ons) and int(m.group(3)) == int(http.rsplit(":", 1)[1]) == 4318,
                      f"{where}: ConfigMap {cm_name} OTEL_EXPORTER_OTLP_ENDPOINT {otlp} is the collector's OTLP/HTTP receiver ({svc}.{ons}:4318; the binary exports OTLP/HTTP)")
                check(egress_allows(docs, ons, 4318), f"{where}: the NetworkPolicy lets the release reach {ons} on 4318")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arcade", required=True)
    ap.add_argument("--rendered", type=Path, required=True)
    ap.add_argument("--compose", type=Path, required=True)
    ap.add_argument("--monitoring", type=Path, required=True)
    ap.add_argument("--argocd", type=Path, default=ROOT / "deploy/argocd")
    a = ap.parse_args()

    # 5: the platform around the chart
    check_platform(a.rendered, a.argocd)

    # 1 and 2: the chart
    for where, role, env, c, pod, objs in chart_containers(a.rendered):
        if role == "healthcheck":
            continue
        check_env(a.arcade, where, role, env)
        check_chart_ports(where, role, env, c, pod, objs)

    # 1 and 2: compose
    services = compose_services(a.compose)
    for name, svc in services.items():
        cmd = svc.get("command") or []
        role = ALIASES.get(cmd[0], cmd[0]) if cmd else None
        if role not in ROLES:
            continue
        env = svc.get("environment") or {}
        check_env(a.arcade, f"compose service {name}", role, env)
        if role in LISTENING:
            port = listen_port(env["ARCADE_LISTEN"])
            targets = {int(str(p["target"] if isinstance(p, dict) else p).rsplit(":", 1)[-1]) for p in svc.get("ports", [])}
            check(not targets or targets == {port}, f"compose service {name}: published container port {sorted(targets)} is ARCADE_LISTEN's {port}")
    dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
    expose = re.search(r"^EXPOSE (\d+)", dockerfile, re.M)
    cmd_listen = re.search(r'^CMD \[.*"--listen", "([^"]+)"', dockerfile, re.M)
    check(bool(expose and cmd_listen) and int(expose.group(1)) == listen_port(cmd_listen.group(1)),
          "Dockerfile: EXPOSE matches the default command's --listen")
    image_env = re.findall(r"^ENV\s+(ARCADE_\w+)", dockerfile, re.M)
    check(not image_env, f"Dockerfile sets no ARCADE_* variable that one of the roles would refuse {image_env or ''}")

    # 3 and 4: a running server
    live: set[str] = set()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {"PATH": "/usr/bin:/bin", "ARCADE_LISTEN": f"127.0.0.1:{port}", "ARCADE_DATA_DIR": data,
               "ARCADE_LOG_FORMAT": "json"}
        server = subprocess.Popen([a.arcade, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    if get(f"{base}/health/live")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            paths = probe_paths(a.rendered) | {"/health/ready", "/metrics", "/openapi.json"}
            for path in sorted(paths):
                status, _ = get(base + path)
                check(status == 200, f"GET {path} on a running server answers {status}")
            hc = subprocess.run([a.arcade, "healthcheck"], env={**env}, capture_output=True, text=True)
            check(hc.returncode == 0, "`arcade healthcheck` (the image's HEALTHCHECK) exits 0 against it")
            get(f"{base}/api/games")  # one API request so the HTTP families have samples
            _, text = get(f"{base}/metrics")
            live |= {re.sub(r"_(bucket|count|sum|created|total)$", "", line.split()[2])
                    for line in text.splitlines() if line.startswith("# TYPE ")}
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    # 4: metric names the monitoring and the canary analysis query
    source = (ROOT / "crates/arcade-telemetry/src/metrics.rs").read_text()
    block = re.search(r"METRIC_NAMES: &\[&str\] = &\[(.*?)\];", source, re.S)
    exposed = set(re.findall(r'"([a-z0-9_]+)"', block.group(1))) if block else set()
    check(bool(exposed), f"METRIC_NAMES read from the Rust source ({len(exposed)} names)")
    used: dict[str, set[str]] = {}
    for f in sorted((a.monitoring / "rules").glob("*.yaml")):
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            for r in g["rules"]:
                used.setdefault(f"rules/{f.name}", set()).update(metric_names_in(str(r["expr"])))
    for f in sorted((a.monitoring / "dashboards").glob("*.json")):
        if f.name.endswith(".schema.json"):
            continue
        for e in exprs_of_dashboard(json.loads(f.read_text())):
            used.setdefault(f"dashboards/{f.name}", set()).update(metric_names_in(e))
    for f in sorted(a.rendered.glob("*.yaml")):
        for d in yaml.safe_load_all(f.read_text()):
            if d and d["kind"] == "AnalysisTemplate":
                for m in d["spec"]["metrics"]:
                    used.setdefault(f"{f.stem} AnalysisTemplate", set()).update(
                        metric_names_in(m["provider"]["prometheus"]["query"]))
    norm = {re.sub(r"_total$", "", n) for n in exposed}
    unknown = sorted(n for n in live if n.startswith("arcade_") and n not in norm)
    check(not unknown, f"live /metrics: {len(live)} families, every arcade_* family in METRIC_NAMES"
          + (f"; unknown {unknown}" if unknown else ""))
    unlisted = sorted(n for n in live if n not in norm)
    if unlisted:
        print(f"note the server exposes families METRIC_NAMES does not list: {', '.join(unlisted)}")
    for where, names in used.items():
        missing = sorted(n for n in names if n not in exposed and re.sub(r"_total$", "", n) not in live)
        check(not missing, f"{where}: {len(names)} Arcade metrics, all exposed (METRIC_NAMES or the live scrape)"
              + (f"; missing {missing}" if missing else ""))
    all_used = set().union(*used.values()) if used else set()
    absent = sorted(n for n in all_used if re.sub(r"_total$", "", n) not in live)
    if absent:
        print(f"note {len(absent)} used families have no samples yet on a fresh server: {', '.join(absent)}")

    print(f"consistency: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
