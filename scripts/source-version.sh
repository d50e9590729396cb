#!/usr/bin/env bash
# Prints the release this source tree is: sourceVersion in Sources/Shared/Support/Release.swift, the one place it is
# written (scripts/package.sh, scripts/package-test.sh and deploy/install.sh read it here).
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(sed -n 's/^public let sourceVersion = "\(.*\)"$/\1/p' Sources/Shared/Support/Release.swift)"
[ -n "$version" ] || { echo "$0: no sourceVersion in Sources/Shared/Support/Release.swift" >&2; exit 1; }
echo "$version"
