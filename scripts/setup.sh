#!/usr/bin/env bash
# Installs the system packages the build needs (Debian/Ubuntu). Safe to run again.
# With --build-only, just what building and running needs; without, also what the tests use
# (systemd-analyze, ip netns and nft, headless Chromium and CJK fonts for the page tests, zbarimg to read back the
# printed QR codes, pdfinfo to read the printed report back, openssl for the HTTPS test certificates, PostgreSQL for
# the store tests, which start their own server on a temporary directory and a loopback port, nginx for the replicas
# behind a load balancer).
set -euo pipefail
packages=(libcurl4-openssl-dev libsqlite3-dev libqrencode-dev pkg-config curl)
if [ "${1:-}" != "--build-only" ]; then
    packages+=(systemd iproute2 nftables chromium fonts-noto-cjk openssl zbar-tools poppler-utils postgresql nginx-light)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install Swift 6.2 or later (swift.org)" >&2; exit 1; }
