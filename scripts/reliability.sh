#!/usr/bin/env bash
# Runs many seeded fault schedules (default 2000, from seed 1000) and writes the summary into
# docs/reliability.md. Usage: scripts/reliability.sh [SCHEDULES] [FIRST_SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build
FAULT_SCHEDULES="${1:-2000}" FAULT_SEED="${2:-1000}" FAULT_REPORT="$PWD/docs/reliability.md" \
    swift test --filter FaultInjectionTests
echo "summary written to docs/reliability.md"
