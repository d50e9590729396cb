#!/usr/bin/env bash
# Stops and removes the units and binaries. Keeps the data (/var/lib/venue-node, /var/lib/aggregator)
# and the configuration (/etc/sanmin): the records are never deleted by this script.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
for unit in venue-node.service aggregator.service; do
    if [ -e "/etc/systemd/system/$unit" ]; then
        if [ -d /run/systemd/system ]; then systemctl disable --now "$unit" || true; fi
        rm -f "/etc/systemd/system/$unit"
    fi
done
[ -d /run/systemd/system ] && systemctl daemon-reload
rm -f /usr/local/bin/venue-node /usr/local/bin/aggregator
echo "removed the units and binaries; kept /var/lib/venue-node, /var/lib/aggregator and /etc/sanmin"
