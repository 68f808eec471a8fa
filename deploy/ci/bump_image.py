"""Points an environment at a released image in git: the edit the release workflow commits.

  staging     deploy/helm/arcade/values-staging.yaml: image.tag and image.digest
  production  deploy/argocd/apps/arcade-production.yaml: spec.source.targetRevision (the
              version tag, so the chart and values come from the release too) and
              spec.source.helm.valuesObject.image.tag and .digest

Only those lines change: the files keep their comments and layout, so the pull request shows
exactly what is deployed. Standard library only (it runs on a bare CI runner); the YAML is
walked by indentation, which the block mappings of these two files allow.

Usage: python3 bump_image.py staging|production VERSION_OR_TAG DIGEST [REPO_ROOT]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TARGETS = {
    "staging": ("deploy/helm/arcade/values-staging.yaml",
                [(("image", "tag"), "{tag}"), (("image", "digest"), "{digest}")]),
    "production": ("deploy/argocd/apps/arcade-production.yaml",
                   [(("spec", "source", "targetRevision"), "v{tag}"),
                    (("spec", "source", "helm", "valuesObject", "image", "tag"), "{tag}"),
                    (("spec", "source", "helm", "valuesObject", "image", "digest"), "{digest}")]),
}
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):(?P<rest>.*)$")


def set_scalar(lines: list[str], path: tuple[str, ...], value: str) -> None:
    """Replaces the scalar at `path` (nested block-mapping keys) with a quoted `value`."""
    depth, indent = 0, -1
    for i, line in enumerate(lines):
        m = KEY.match(line)
        if not m:
            continue
        here = len(m["indent"])
        if here <= indent:
            break  # left the mapping that should have held the key
        if m["key"] != path[depth]:
            continue
        if depth == len(path) - 1:
            comment = re.search(r"\s+#.*$", m["rest"])
            lines[i] = f'{m["indent"]}{m["key"]}: "{value}"' + (comment.group(0) if comment else "")
            return
        depth, indent = depth + 1, here
    raise SystemExit(f"{'.'.join(path)} not found")


def bump(root: Path, env: str, tag: str, digest: str) -> Path:
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise SystemExit(f"not an image digest: {digest!r}")
    tag = tag.removeprefix("v") if env == "production" else tag
    if env == "production" and not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?", tag):
        raise SystemExit(f"production takes a release version (v1.2.3), not {tag!r}")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        raise SystemExit(f"not an image tag: {tag!r}")
    rel, edits = TARGETS[env]
    path = root / rel
    lines = path.read_text().split("\n")
    for keys, template in edits:
        set_scalar(lines, keys, template.format(tag=tag, digest=digest))
    path.write_text("\n".join(lines))
    return path


def main() -> int:
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in TARGETS:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = Path(sys.argv[4]) if len(sys.argv) == 5 else Path(__file__).resolve().parents[2]
    print(bump(root, sys.argv[1], sys.argv[2], sys.argv[3]).relative_to(root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
