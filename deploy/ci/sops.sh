#!/usr/bin/env bash
# The SOPS path, checked with the real sops and age: encrypt a values file of secrets with a
# throwaway age key made here, prove the ciphertext holds no secret in clear, decrypt it and
# render the chart with it (production values + the decrypted secrets: the chart then makes
# the Secret itself), and prove every key the pods read from that Secret is in it. Then scan
# the repository: every file where encrypted values live (deploy/helm/*/secrets/, *.sops.*,
# *.secret.yaml) must be SOPS ciphertext, and .sops.yaml must hold public keys only.
#   bash deploy/ci/sops.sh OUT_DIR PYTHON
set -euo pipefail
out="$1"
py="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$out/sops"
rm -rf "$work"
mkdir -p "$work"
chmod 700 "$work"

age-keygen -o "$work/key.txt" 2>/dev/null
recipient="$(age-keygen -y "$work/key.txt")"

# Sample secrets, made up here: random values the way an operator would store them.
rand() { head -c 18 /dev/urandom | base64 | tr -d '/+=' ; }
db_password="$(rand)"
cat >"$work/production.yaml" <<YAML
secrets:
  externalSecret:
    enabled: false
  create:
    nats-url: nats://arcade:$(rand)@nats.nats.svc:4222
    redis-password: $(rand)
    session-secret: $(rand)$(rand)
    discord-webhook-url: https://discord.com/api/webhooks/1/$(rand)
    slack-webhook-url: https://hooks.slack.com/services/T0/B0/$(rand)
    database-url: postgresql://arcade:${db_password}@db:5432/arcade
YAML
# The repository's rule (.sops.yaml: what is encrypted), with the throwaway key.
"$py" - "$root/.sops.yaml" "$recipient" >"$work/sops.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))["creation_rules"][0]
rule.update({"path_regex": ".*", "age": sys.argv[2]})
print(yaml.safe_dump({"creation_rules": [rule]}))
PY
sops --config "$work/sops.yaml" --encrypt "$work/production.yaml" >"$work/production.enc.yaml"
for secret in "$db_password" "hooks.slack.com/services/T0"; do
  if grep -qF "$secret" "$work/production.enc.yaml"; then
    echo "the encrypted file shows a secret in clear" >&2
    exit 1
  fi
done
grep -q '^sops:' "$work/production.enc.yaml"
echo "encrypted with a throwaway age key: no value in clear"

SOPS_AGE_KEY_FILE="$work/key.txt" sops --config "$work/sops.yaml" --decrypt \
  "$work/production.enc.yaml" >"$work/production.dec.yaml"
"$py" -c 'import sys, yaml; a, b = (yaml.safe_load(open(f)) for f in sys.argv[1:]); sys.exit(a != b)' \
  "$work/production.yaml" "$work/production.dec.yaml" ||
  { echo "decryption did not give the values back" >&2; exit 1; }
echo "decrypted with the key: the same file"

"$py" "$root/deploy/ci/chart.py" --render "$work/rendered.yaml" \
  "$root/deploy/helm/arcade/values.yaml" "$root/deploy/helm/arcade/values-production.yaml" \
  "$work/production.dec.yaml"
"$py" - "$work/rendered.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
assert "arcade-secrets" in secrets, "no Secret rendered from the decrypted values"
keys = set(secrets["arcade-secrets"]["stringData"])
assert not [d for d in docs if d["kind"] == "ExternalSecret" and d["metadata"]["name"] == "arcade-secrets"]
missing = set()
for d in docs:
    pod = d.get("spec", {}).get("template", {}).get("spec") or {}
    for c in pod.get("containers", []):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] == "arcade-secrets" and ref["key"] not in keys:
                missing.add(f"{d['kind']} {d['metadata']['name']}: {e['name']} <- {ref['key']}")
assert not missing, f"keys the pods read and the decrypted values lack: {sorted(missing)}"
print(f"chart rendered with the decrypted values: Secret arcade-secrets has every key the pods read ({', '.join(sorted(keys))})")
PY

# Nothing in clear where encrypted values belong, and no private key anywhere.
cd "$root"
mapfile -t files < <(git ls-files -co --exclude-standard 'deploy/helm/*/secrets/*' '*.sops.yaml' \
  '*.sops.json' '*.secret.yaml' | grep -v '^\.sops\.yaml$' | grep -v '/README.md$' || true)
"$py" - .sops.yaml "${files[@]}" <<'PY'
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))["creation_rules"]
keys = [k for r in rules for k in re.findall(r"age1[0-9a-z]{58}", str(r.get("age", "")))]
problems = [] if keys else [".sops.yaml names no age public key"]
encrypted = re.compile(rules[0].get("encrypted_regex", ".*"))
def leaves(node, inside):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, inside or bool(encrypted.search(str(k))))
    elif isinstance(node, list):
        for v in node:
            yield from leaves(v, inside)
    elif inside:
        yield node
for f in sys.argv[2:]:
    doc = yaml.safe_load(open(f)) or {}
    if "sops" not in doc:
        problems.append(f"{f}: not encrypted with SOPS (no sops metadata)")
        continue
    doc.pop("sops")
    clear = [v for v in leaves(doc, False) if not str(v).startswith("ENC[")]
    if clear:
        problems.append(f"{f}: {len(clear)} value(s) under {encrypted.pattern} in clear")
for p in problems:
    print(p, file=sys.stderr)
print(f"repository: {len(sys.argv) - 2} encrypted values file(s) checked, "
      f"{len(keys)} age public key(s) in .sops.yaml")
sys.exit(1 if problems else 0)
PY
if git grep -l 'AGE-SECRET-KEY-' -- . ':!deploy/ci/sops.sh'; then
  echo "an age private key is committed (above)" >&2
  exit 1
fi
echo "no age private key committed"
