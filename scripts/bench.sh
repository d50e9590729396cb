#!/usr/bin/env bash
# Builds the release binaries and runs every benchmark, each side by side with its limit or goal: ingest
# against raw SQLite, Ed25519, catch-up after a total outage (in process and over HTTP with the real
# daemons), live latency to the dashboard, resident memory, the costs as the event grows to 10^6 records, and
# the phone ballot box under 400 and 4,000 phones; writes docs/benchmarks.md (and the figures in docs/voting.md). About 6 minutes on 2 cores.
# Usage: scripts/bench.sh [--huge] [--quick] [--only ingest,catch-up,live,growth,node,vote] [--scale N]
#   --huge adds the 10^7-record points (tens of minutes, several GB of disk in the temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-only
# The benchmark starts the aggregator and venue-node binaries that sit next to it.
swift build -c release
.build/release/tally-bench --out docs/benchmarks.md --voting-doc docs/voting.md "$@"
