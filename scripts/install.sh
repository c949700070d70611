#!/usr/bin/env bash
# Installs nodee on a host: the built daemon in /opt/nodee, the nodee command on PATH, the
# example config in /etc/nodee (kept if one exists), and the systemd unit, enabled and
# started. Run from a checkout as root: `npm ci && npm run build && sudo scripts/install.sh`.
set -euo pipefail

dest=/opt/nodee
etc=/etc/nodee
start=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest=$2; shift 2 ;;
    --etc) etc=$2; shift 2 ;;
    --no-start) start=no; shift ;;
    -h|--help) echo "usage: $0 [--dest DIR] [--etc DIR] [--no-start]"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
[ -f "$src/dist/cli.js" ] || { echo "build first: npm ci && npm run build" >&2; exit 1; }
command -v node >/dev/null || { echo "node (>= 20.18) is not on PATH" >&2; exit 1; }

install -d -m 0755 "$dest"
cp -a "$src/package.json" "$src/package-lock.json" "$src/dist" "$src/README.md" "$dest/"
(cd "$dest" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
# services' first-start worker runs node on dist/ as the service's user: the code (no
# secrets in it) must be readable by every user, whatever root's umask was when it was built
chmod -R a+rX "$dest"
ln -sf "$dest/dist/cli.js" /usr/local/bin/nodee
chmod 0755 "$dest/dist/cli.js"

install -d -m 0755 "$etc"
if [ ! -f "$etc/nodee.yaml" ]; then
  install -m 0644 "$src/etc/nodee.yaml" "$etc/nodee.yaml"
  echo "wrote $etc/nodee.yaml: review it (zookeeper, repositories) before production use"
fi

unit=/etc/systemd/system/nodee.service
sed -e "s#/opt/nodee#$dest#g" -e "s#/etc/nodee/nodee.yaml#$etc/nodee.yaml#g" "$src/systemd/nodee.service" > "$unit"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$start" = yes ]; then systemctl enable --now nodee; else systemctl enable nodee; fi
  systemctl --no-pager status nodee || true
else
  echo "systemd is not running here: unit written to $unit, start it with systemctl when it is"
fi
