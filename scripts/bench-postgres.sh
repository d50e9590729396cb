#!/usr/bin/env bash
# The aggregator's store on PostgreSQL, measured (issue #20): starts a PostgreSQL server of its own (Debian's, a
# cluster in a temporary directory, listening on a loopback port; as the postgres user when run as root, since
# PostgreSQL refuses root), runs `tally-bench --only postgres` against it side by side with its limits, and writes
# the figures into docs/scale.md. The server keeps PostgreSQL's default durability (fsync, synchronous commit).
# Usage: scripts/bench-postgres.sh [--quick]
#   --quick: the debug build (already built by the test command) and small sizes; shows it works, writes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"
scripts/setup.sh
if [ -n "$quick" ]; then
    bench=.build/debug/tally-bench
else
    swift build -c release --product tally-bench
    bench=.build/release/tally-bench
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/sanmin-pgbench.XXXXXX)
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    run_as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi
"${run_as[@]}" "$bin/initdb" -D "$dir/data" -U tally --auth=trust --encoding=UTF8 --locale=C > /dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-h 127.0.0.1 -p $port -k $dir" -w start > /dev/null
stop() {
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
    rm -rf "$dir"
}
trap stop EXIT
args=(--only postgres --postgres "postgres://tally@127.0.0.1:$port/postgres")
if [ -n "$quick" ]; then
    args+=(--quick)
else
    args+=(--scale-doc docs/scale.md)
fi
"$bench" "${args[@]}"
