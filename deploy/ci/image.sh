#!/usr/bin/env bash
# Builds the runtime image for real, offline, and runs it: buildah assembles it from scratch
# (no registry pull is possible here, so the Dockerfile's rust and distroless bases cannot be
# fetched) with the same layout as deploy/docker/Dockerfile's runtime stage: the binary, its
# shared libraries, an empty /data owned by 65532, USER 65532, the same entrypoint and
# default command. podman then runs it with a read-only root filesystem, no capabilities and
# /data as the only writable mount, and the test waits for /health/ready from outside and
# for `arcade healthcheck` (the image's HEALTHCHECK) from inside.
#
# Usage: deploy/ci/image.sh path/to/arcade
set -euo pipefail

bin="$1"
image="localhost/arcade:ci"
work="$(mktemp -d)"
container=""
cleanup() {
  if [ -n "$container" ]; then podman rm -f "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# podman here needs runc and modest default ulimits.
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"

# The root filesystem: the binary (debug info stripped, as a release build ships) and the
# loader and libraries it links (what distroless cc provides).
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/data" "$root/tmp"
cp "$bin" "$root/usr/local/bin/arcade"
strip --strip-debug "$root/usr/local/bin/arcade"
ldd "$bin" | awk '/=> \// {print $3} /^\s*\/lib/ {print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
chown 65532:65532 "$root/data"
chmod 1777 "$root/tmp"

ctr="$(buildah from scratch)"
buildah copy --quiet "$ctr" "$root" / >/dev/null
buildah config \
  --user 65532:65532 --workingdir / --port 8080 --volume /data \
  --entrypoint '["/usr/local/bin/arcade"]' --cmd 'serve --listen 0.0.0.0:8080' \
  --label org.opencontainers.image.source=https://github.com/arcade-games/arcade \
  --label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --label org.opencontainers.image.version=ci \
  "$ctr"
buildah commit --quiet --rm "$ctr" "$image" >/dev/null
size=$(podman image inspect "$image" --format '{{.Size}}')
binsize=$(stat -c %s "$root/usr/local/bin/arcade")
echo "image $image built: $((size / 1024 / 1024)) MiB, of which the binary $((binsize / 1024 / 1024)) MiB"

mkdir -p "$work/data" && chown 65532:65532 "$work/data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=$(podman run -d --network=host --read-only --cap-drop=ALL --security-opt=no-new-privileges \
  -v "$work/data:/data:rw" \
  -e ARCADE_LISTEN="127.0.0.1:$port" -e ARCADE_LOG_FORMAT=json \
  "$image" serve)

ready=""
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/health/ready" >"$work/ready.json" 2>/dev/null; then ready=1; break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "FAIL the container never answered /health/ready"; podman logs "$container" | tail -20; exit 1
fi
echo "ok   GET /health/ready in the running container: $(head -c 200 "$work/ready.json")"
podman exec "$container" /usr/local/bin/arcade healthcheck
echo "ok   arcade healthcheck inside the container exits 0"
user=$(podman inspect "$container" --format '{{.Config.User}}')
[ "$user" = "65532:65532" ] || { echo "FAIL runs as '$user'"; exit 1; }
echo "ok   runs as $user with a read-only root filesystem"
podman stop -t 30 "$container" >/dev/null
code=$(podman inspect "$container" --format '{{.State.ExitCode}}')
[ "$code" = "0" ] || { echo "FAIL exit code $code after SIGTERM"; podman logs "$container" | tail -5; exit 1; }
echo "ok   stops cleanly on SIGTERM (exit 0)"
