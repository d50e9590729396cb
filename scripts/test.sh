#!/usr/bin/env bash
# Runs the whole test suite: installs what the build needs, builds the binaries the end-to-end
# tests start, then runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
