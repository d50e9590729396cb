#!/usr/bin/env bash
# Builds release binaries and installs the venue node and/or the aggregator as systemd services: the developer's
# path (operators install the Debian packages, scripts/package.sh; docs/operations.md).
# Usage: sudo deploy/install.sh node|standby|aggregator|both
# (standby: a venue's second laptop; venue-node-follow.service is enabled, venue-node.service installed for after a
# promotion.)
# Creates the sanmin system user, /etc/sanmin (configuration from the examples, kept if present),
# installs the units and enables them. Start a unit once its configuration is in place (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
role="${1:-}"
case "$role" in node|standby|aggregator|both) ;; *) echo "usage: $0 node|standby|aggregator|both" >&2; exit 64 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo $0 $role)" >&2; exit 1; }

scripts/setup.sh --build-only
swift build -c release --product venue-node
swift build -c release --product aggregator
bin="$(swift build -c release --show-bin-path)"
version="$(scripts/source-version.sh)"
if commit="$(git rev-parse HEAD 2>/dev/null)"; then
    git diff --quiet HEAD -- Sources Package.swift || commit="$commit-modified"
else
    commit=unknown # not a git checkout
fi
# `--version` then says what was installed: the release and the commit (scripts/stamp-build-info.sh).
install_binary() {
    install -m 0755 "$bin/$1" "/usr/local/bin/$1"
    scripts/stamp-build-info.sh "/usr/local/bin/$1" "$version" "$commit"
}

id sanmin >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sanmin
# A data directory, empty, if there is none (as the packages do): `sudo -u sanmin … init --data-dir /var/lib/…`
# then works before the service's first start. One that exists is never touched.
data_directory() { [ -e "$1" ] || install -d -o sanmin -g sanmin -m 0700 "$1"; }
install -d -m 0755 /etc/sanmin /usr/local/share/doc/sanmin
install -m 0644 docs/operations.md /usr/local/share/doc/sanmin/operations.md

units=()
if [ "$role" = node ] || [ "$role" = standby ] || [ "$role" = both ]; then
    install_binary venue-node
    data_directory /var/lib/venue-node
    [ -e /etc/sanmin/venue-node.conf ] || install -m 0644 deploy/venue-node.conf /etc/sanmin/venue-node.conf
    install -m 0644 deploy/venue-node.service /etc/systemd/system/venue-node.service
    [ "$role" = standby ] || units+=(venue-node.service)
fi
if [ "$role" = standby ]; then
    [ -e /etc/sanmin/venue-node-follow.conf ] ||
        install -m 0640 -g sanmin deploy/venue-node-follow.conf /etc/sanmin/venue-node-follow.conf
    install -m 0644 deploy/venue-node-follow.service /etc/systemd/system/venue-node-follow.service
    units+=(venue-node-follow.service)
fi
if [ "$role" = aggregator ] || [ "$role" = both ]; then
    install_binary aggregator
    data_directory /var/lib/aggregator
    [ -e /etc/sanmin/aggregator.conf ] || install -m 0644 deploy/aggregator.conf /etc/sanmin/aggregator.conf
    install -m 0644 deploy/aggregator.service /etc/systemd/system/aggregator.service
    units+=(aggregator.service)
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable "${units[@]}"
    echo "installed and enabled: ${units[*]} (start them once configured: see docs/operations.md)"
else
    echo "installed ${units[*]}; systemd is not running here, so nothing was enabled"
fi
