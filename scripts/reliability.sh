#!/usr/bin/env bash
# Runs many seeded fault schedules (default 2000, from seed 1000) and writes the summary into
# docs/reliability.md; then the same schedules against two aggregators on one PostgreSQL database (default 1000, issue
# #20), written into its section there; then standby schedules (default 200).
# Usage: scripts/reliability.sh [SCHEDULES] [FIRST_SEED] [STANDBY_SCHEDULES] [REPLICA_SCHEDULES]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build
FAULT_SCHEDULES="${1:-2000}" FAULT_SEED="${2:-1000}" FAULT_REPORT="$PWD/docs/reliability.md" \
    swift test --filter 'FaultInjectionTests/seededFaultSchedulesLoseNothing'
FAULT_REPLICA_SCHEDULES="${4:-1000}" FAULT_SEED="${2:-1000}" FAULT_REPLICA_REPORT="$PWD/docs/reliability.md" \
    swift test --filter ReplicaFaultTests
echo "summary written to docs/reliability.md"
# Schedules that kill the primary and promote its standby (issue #15); their summary is the last line printed.
FAULT_STANDBY_SCHEDULES="${3:-200}" FAULT_STANDBY_SEED="${2:-1000}" swift test --filter StandbyFaultTests 2>&1 |
    grep -E '^standby schedule' | tail -n 1
