#!/usr/bin/env bash
# Verifies the deployment kit offline with real tools: the image (hadolint, checkov, a real
# build and run with buildah/podman), the compose stack (compose schema, docker-compose),
# the Helm charts (rendered by Helm's engine for every values file, lint, strict Kubernetes
# schemas, custom resource models and strict CRD schemas, upstream CRDs for CloudNativePG,
# checkov, broken values refused, no install-time hook deadlock), the Argo CD manifests of
# the platform (Applications, secret stores, issuers, the values given to upstream charts
# where a model of their objects exists), the Alertmanager configuration the cluster runs,
# the SOPS path (sops and age), and the agreement of all of them with the `arcade` binary
# (deploy/ci/consistency.py). Every step runs; the script exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)

bash .ci/install-tools.sh || exit 1
tools="${ARCADE_TOOLS:-/opt/arcade-tools}"
export PATH="$tools/venv/bin:$tools/npm/node_modules/.bin:$PATH"
export NODE_PATH="$tools/npm/node_modules"
export BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE CKV_PARSE_ERROR_FAIL=true
py="$tools/venv/bin/python"
checkov="$tools/checkov/bin/checkov"

out="$(mktemp -d "${TMPDIR:-/tmp}/arcade-deploy.XXXXXX")"
trap 'rm -rf "$out"' EXIT
rendered="$out/rendered"
monitoring="$root/deploy/monitoring"

passed=0
failed=0
failures=()
step() {
  local name="$1"
  shift
  local start=$SECONDS
  printf '\n==> %s\n' "$name"
  if "$@"; then
    passed=$((passed + 1))
    printf -- '--- ok: %s (%ss)\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf -- '--- FAILED: %s (%ss)\n' "$name" $((SECONDS - start))
  fi
}

shell_lint() {
  shellcheck -S style .ci/deploy.sh .ci/install-tools.sh deploy/ci/*.sh
}

sops_path() {
  bash deploy/ci/sops.sh "$out" "$py" 2> >(grep -v 'found symbolic link\|update check\|latest version' >&2)
}

yaml_lint() {
  yamllint -s -c .yamllint.yaml .yamllint.yaml deploy/docker deploy/helm deploy/argocd deploy/ci
}

dockerfile() {
  hadolint --no-color --failure-threshold warning deploy/docker/Dockerfile &&
    "$checkov" --skip-download --quiet --compact -o cli --framework dockerfile \
      -f deploy/docker/Dockerfile
}

compose() {
  local env="$out/compose.env"
  # .env.example with sample secrets: the file a person copies to .env.
  sed -E 's/^([A-Z_]*(PASSWORD|SECRET))=$/\1=sample-secret-of-thirty-two-bytes-or-more/' \
    .env.example >"$env"
  git check-ignore -q .env || { echo ".env is not git-ignored"; return 1; }
  check-jsonschema --builtin-schema vendor.compose-spec deploy/docker/compose.yaml &&
    docker-compose --env-file "$env" -f deploy/docker/compose.yaml config -q &&
    docker-compose --env-file "$env" -f deploy/docker/compose.yaml --profile observability config -q &&
    # The full stack path of the README: `docker compose up` from the root, with .env.
    (cd "$out" && mkdir -p repo/deploy && cp -r "$root/deploy/docker" repo/deploy/ &&
      cp "$env" repo/.env && cd repo && docker-compose config --services | sort | tr '\n' ' ' &&
      echo)
}

chart_render() {
  "$py" deploy/ci/chart.py "$rendered" 2> >(grep -v 'found symbolic link' >&2)
}

kubernetes_schemas() {
  # The chart's minimum (Chart.yaml kubeVersion) and the newest schemas known offline.
  local v
  for v in 1.30 1.37; do
    kubernetes-validate --strict --quiet --no-warn -k "$v" "$rendered"/*.yaml \
      deploy/argocd/namespaces/*.yaml || return 1
    echo "Kubernetes $v: every built-in kind valid (strict)"
  done
}

custom_resources() {
  local argocd
  mapfile -t argocd < <(find deploy/argocd -name '*.yaml' | sort)
  node deploy/ci/validate-crds.mjs "$rendered"/*.yaml "${argocd[@]}" &&
    "$py" deploy/ci/validate_strict.py --monitoring "$monitoring" \
      --pod-templates "$out/rollout-pods.yaml" "$rendered"/*.yaml "${argocd[@]}" &&
    kubernetes-validate --strict --quiet --no-warn -k 1.37 "$out/rollout-pods.yaml" &&
    echo "Rollout pod templates: valid (strict)"
}

monitoring_wiring() {
  # The PrometheusRule the chart builds, as a plain rule file, and the compose Prometheus and
  # Alertmanager configurations with the files they mount.
  "$py" - "$rendered/monitoring.yaml" "$out/prometheusrule.yaml" <<'PY' || return 1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"]
assert docs, "no PrometheusRule rendered"
yaml.safe_dump(docs[0]["spec"], open(sys.argv[2], "w"), sort_keys=False)
PY
  promtool check rules "$out/prometheusrule.yaml" || return 1
  sed "s|/etc/prometheus/rules/|$monitoring/rules/|" deploy/docker/prometheus/prometheus.yml \
    >"$out/prometheus.yml"
  promtool check config "$out/prometheus.yml" || return 1
  amtool check-config "$monitoring/alertmanager/alertmanager.yaml" || return 1
  # The cluster's Alertmanager (kube-prometheus-stack values) runs the same configuration,
  # with the webhook files where the operator mounts the alertmanager-slack Secret.
  "$py" - deploy/argocd/apps/kube-prometheus-stack.yaml "$monitoring/alertmanager/alertmanager.yaml" \
    "$out/alertmanager-cluster.yaml" <<'PY' || return 1
import sys, yaml
app = yaml.safe_load(open(sys.argv[1]))
cluster = app["spec"]["source"]["helm"]["valuesObject"]["alertmanager"]["config"]
mounted = yaml.safe_dump(yaml.safe_load(open(sys.argv[2]))).replace(
    "/etc/alertmanager/secrets/", "/etc/alertmanager/secrets/alertmanager-slack/")
assert yaml.safe_load(mounted) == cluster, f"{sys.argv[1]}: alertmanager.config differs from {sys.argv[2]}"
secrets = app["spec"]["source"]["helm"]["valuesObject"]["alertmanager"]["alertmanagerSpec"]["secrets"]
assert secrets == ["alertmanager-slack"], secrets
yaml.safe_dump(cluster, open(sys.argv[3], "w"))
print("kube-prometheus-stack's Alertmanager: the configuration of deploy/monitoring, webhooks from alertmanager-slack")
PY
  amtool check-config "$out/alertmanager-cluster.yaml"
}

security_scan() {
  mkdir -p "$out/scan" && cp "$rendered"/*.yaml "$out/scan/" &&
    "$checkov" --skip-download --quiet --compact -o cli --framework kubernetes -d "$out/scan"
}

arcade_bin() {
  cargo build --quiet --locked --bin arcade
}

consistency() {
  "$py" deploy/ci/consistency.py --arcade "${CARGO_TARGET_DIR:-$root/target}/debug/arcade" \
    --rendered "$rendered" --compose deploy/docker/compose.yaml --monitoring "$monitoring"
}

image() {
  bash deploy/ci/image.sh "${CARGO_TARGET_DIR:-$root/target}/debug/arcade"
}

step "shellcheck" shell_lint
step "yamllint" yaml_lint
step "Dockerfile (hadolint, checkov)" dockerfile
step "compose (schema, docker-compose config)" compose
step "Helm chart: render every values file, lint, refuse broken values" chart_render
step "Kubernetes schemas (kubernetes-validate --strict)" kubernetes_schemas
step "custom resources (upstream models, strict CRD schemas)" custom_resources
step "monitoring wiring (promtool, amtool)" monitoring_wiring
step "security scan of rendered manifests (checkov)" security_scan
step "SOPS path: encrypt, decrypt, render; no secret in clear (sops, age)" sops_path
step "build the arcade binary" arcade_bin
step "artifacts agree with the binary (check-config, ports, probes, metrics)" consistency
step "image: build from scratch, run read-only, /health/ready (buildah, podman)" image

# Delivery: the canary analysis replayed in promtool, the promotion path (Argo CD, workflows,
# admission policy, image bumps), and the Terraform (parse, variables and outputs documented,
# pins, Karpenter manifests against their CRD schemas, checkov). terraform init and validate
# need the provider registry: the terraform job of .github/workflows/ci.yml runs them.
canary_analysis() {
  "$py" deploy/ci/canary_analysis.py "$rendered/production.yaml" "$out/canary"
}

delivery() {
  "$py" deploy/ci/delivery.py "$root" "$out/delivery" --rendered "$rendered" \
    --arcade "${CARGO_TARGET_DIR:-$root/target}/debug/arcade"
}

terraform_files() {
  "$py" deploy/ci/terraform_check.py deploy/terraform "$out/terraform" &&
    node deploy/ci/validate-crds.mjs "$out"/terraform/*.yaml &&
    "$py" deploy/ci/validate_strict.py "$out"/terraform/*.yaml
}

terraform_scan() {
  "$checkov" --skip-download --quiet --compact -o cli --framework terraform -d deploy/terraform \
    2> >(grep -v 'Failed to download module' >&2)
}

step "canary analysis tells good from bad canaries (promtool)" canary_analysis
step "promotion path: Argo CD, workflows, admission policy, image bumps" delivery
step "Terraform: parse, documented variables and outputs, pins, Karpenter manifests" terraform_files
step "Terraform security scan (checkov)" terraform_scan

printf '\ndeploy: %d passed, %d failed\n' "$passed" "$failed"
for f in "${failures[@]}"; do printf 'failed: %s\n' "$f"; done
[ "$failed" -eq 0 ]
