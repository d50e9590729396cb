#!/usr/bin/env bash
# Runs the whole test suite: installs what the build needs, builds the binaries the end-to-end
# tests start, runs the tests, then fuzzes the batch decoder and verifier for 60 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The code follows .swift-format (swift-format ships with the toolchain): `swift format -i -r Sources Tests
# Package.swift` fixes what this reports.
swift format lint --strict --recursive Sources Tests Package.swift
swift build --build-tests
# The browser tests (headless Chromium beside the real daemons) run on their own after the rest: on 2 cores,
# beside the fault schedules, each would take ten times as long and hold the others up.
swift test --skip-build --skip 'BrowserTests'
swift test --skip-build --filter 'BrowserTests'
# The benchmarks in their quick mode: they still work (figures from scripts/bench.sh, docs/benchmarks.md).
.build/debug/tally-bench --quick
# The PostgreSQL store's benchmark in its quick mode, on a PostgreSQL server it starts and stops (docs/scale.md).
scripts/bench-postgres.sh --quick
# The Debian packages built from the debug build, checked, and installed, upgraded and removed in a fresh Debian
# root with no Swift (needs root and Debian's mirror; skipped, with the reason, elsewhere). It builds the two
# executables with the Swift runtime inside into .build-static (a few minutes the first time).
scripts/package-test.sh --quick
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
