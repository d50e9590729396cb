#!/usr/bin/env bash
# Builds tally-bench in release mode and measures ingest against raw SQLite, Ed25519 verification and the
# cost of a node write as the node grows; writes docs/benchmarks.md. Usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-only
swift build -c release --product tally-bench
.build/release/tally-bench --out docs/benchmarks.md "$@"
