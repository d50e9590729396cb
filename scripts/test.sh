#!/usr/bin/env bash
# Runs the whole test suite: installs what the build needs, builds the binaries the end-to-end
# tests start, runs the tests, then fuzzes the batch decoder and verifier for 60 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
