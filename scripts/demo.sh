#!/usr/bin/env bash
# Runs a whole simulated event on the Ordos 2021 plan: an aggregator and one venue node per venue
# (main + 9 branch venues) recording check-ins and ballots offline, syncing, and the reconciled totals.
# Extra arguments go to tally-demo (see: .build/debug/tally-demo --help), e.g. --lang en.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --build-only
swift build
exec .build/debug/tally-demo "$@"
