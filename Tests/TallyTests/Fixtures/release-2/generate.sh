#!/bin/sh
# Writes the release-2 fixture (README.md in this directory says what it holds) with the built binaries:
#   swift build && Tests/TallyTests/Fixtures/release-2/generate.sh OUT_DIR
# It was run once, by release 2; the files beside this script are what it wrote then. Never regenerate them
# (the keys, tokens and times would change, and the point is to keep what release 2 really wrote): a later
# release adds its own fixture directory, release-3, … beside this one.
# Needs: .build/debug/{aggregator,venue-node} (or BIN=DIR), sqlite3 (to fold the -wal into each database).
set -eu
OUT=${1:?usage: generate.sh OUT_DIR}
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
BIN=${BIN:-$ROOT/.build/debug}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ ! -e "$OUT/agg" ] && [ ! -e "$OUT/node" ] || { echo "$OUT already holds agg or node" >&2; exit 1; }
WORK=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"
cp "$ROOT/examples/tumed-2021/event.json" event.json
agg() { "$BIN/aggregator" "$@"; }
node() { "$BIN/venue-node" "$@" --data-dir node; }

# The aggregator, on a free port.
"$BIN/aggregator" serve --data-dir agg --event event.json --listen 127.0.0.1:0 >serve.log 2>&1 &
SERVER=$!
for _ in $(seq 100); do grep -q '^listening on ' serve.log && break; sleep 0.1; done
PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' serve.log | head -n 1)
[ -n "$PORT" ] || { cat serve.log >&2; exit 1; }

# Release 2: a one-time enrolment token, the aggregator's key given to the node, an observer bearer token.
ENROL=$(agg nodes enroll --data-dir agg --venue tumed 2>/dev/null)
KEY=$(agg identity --data-dir agg)
OBSERVER=$(agg tokens add --data-dir agg --role observer --name 大屏 2>/dev/null)
"$BIN/venue-node" init --data-dir node --event event.json --venue tumed --aggregator "http://127.0.0.1:$PORT" \
    --aggregator-key "$KEY" --token "$ENROL"

# Session S1: 12 check-ins by CSV and one by hand, box B1 opened and closed with 13 forms, 12 ballots by CSV
# (10 valid, 1 blank, 1 spoiled) and one by hand, then a correction that replaces the first valid ballot.
{
    echo "session,rep,category"
    for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
        case $((i % 3)) in 0) c=party_deputy ;; 1) c=npc_deputy ;; *) c=cppcc_member ;; esac
        printf 'S1,R%03d,%s\n' "$i" "$c"
    done
} >checkins.csv
node import --checkins checkins.csv
node checkin --session S1 --rep R013 --category volunteers
node box open --session S1 --box B1
node box close --session S1 --box B1 --issued 13 --returned 13
MARKS="satisfied basically_satisfied dissatisfied"
{
    printf 'session,box,status'
    for d in 01 02 03 04 05 06 07 08 09 10 11 12; do printf ',D%s' "$d"; done
    echo
    for i in 0 1 2 3 4 5 6 7 8 9; do
        printf 'S1,B1,valid'
        for k in 0 1 2 3 4 5 6 7 8 9 10 11; do
            printf ',%s' "$(echo $MARKS | cut -d ' ' -f $(((i + k) % 3 + 1)))"
        done
        echo
    done
    echo "S1,B1,blank,,,,,,,,,,,,"
    echo "S1,B1,spoiled,,,,,,,,,,,,"
} >ballots.csv
node import --ballots ballots.csv
node ballot --session S1 --box B1 \
    --marks D01=satisfied,D02=satisfied,D03=satisfied,D04=satisfied,D05=satisfied,D06=satisfied,D07=satisfied,D08=satisfied,D09=satisfied,D10=satisfied,D11=satisfied,D12=satisfied
FIRST=$(sqlite3 node/node.sqlite "SELECT MIN(seq) FROM record WHERE kind = 'ballot'")
BLANK=$(sqlite3 node/node.sqlite "SELECT seq FROM record WHERE kind = 'ballot' AND payload LIKE '%\"blank\"%'")
node correct --target "$FIRST" --reason "marked wrongly" --operator 王芳 --replacement \
    '{"kind":"ballot","session":"S1","box":"B1","status":"valid","marks":{"D01":"dissatisfied","D02":"dissatisfied","D03":"dissatisfied","D04":"dissatisfied","D05":"dissatisfied","D06":"dissatisfied","D07":"dissatisfied","D08":"dissatisfied","D09":"dissatisfied","D10":"dissatisfied","D11":"dissatisfied","D12":"dissatisfied"}}'
node sync

# Pending (never sent): a correction voiding the blank ballot and two check-ins of session S2.
node correct --target "$BLANK" --reason "entered twice" --operator 王芳 --void
node checkin --session S2 --rep R001 --category npc_deputy
node checkin --session S2 --rep R002 --category cppcc_member
node status

kill "$SERVER"
wait "$SERVER" || true
SERVER=""
# Only *.sqlite is kept: each database's -wal folded into it (the last connection to close removes it).
for db in agg/aggregator.sqlite node/node.sqlite; do
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    [ ! -e "$db-wal" ] && [ ! -e "$db-shm" ] || { echo "$db-wal is still there" >&2; exit 1; }
done
rm -f node/.lock
mkdir -p "$OUT/agg" "$OUT/node"
cp agg/aggregator.sqlite agg/aggregator.key "$OUT/agg/"
cp node/node.json node/node.key node/event.json node/node.sqlite "$OUT/node/"
printf '%s\n' "$OBSERVER" >"$OUT/observer-token.txt"
ls -la "$OUT/agg" "$OUT/node"
