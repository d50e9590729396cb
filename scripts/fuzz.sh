#!/usr/bin/env bash
# Builds the libFuzzer target over the batch decoder and verifier (Sources/batch-fuzzer) and runs it.
# Usage: scripts/fuzz.sh [SECONDS] (default 600). Corpus: .build-fuzz/corpus; crashes: .build-fuzz/crashes.
# Replay a crash with the plain build: swift build --product batch-fuzzer && .build/debug/batch-fuzzer FILE
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
swift build --product batch-fuzzer --build-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING
mkdir -p .build-fuzz/corpus .build-fuzz/crashes
# Seeds: a signed-looking header with a well-formed batch, and the bare batch.
printf '%s\n\n%s' 'sig1=("@method" "@path" "content-digest");created=1767225600;keyid="5575479a";alg="ed25519"' \
    '{"version":1,"event":"fuzz-2026","venue":"east","node":"5575479a","records":[{"seq":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"ab","payload":"{\"kind\":\"checkin\",\"session\":\"S1\",\"rep\":\"R1\",\"category\":\"resident\"}"}]}' \
    > .build-fuzz/corpus/seed-batch
printf '%s' '{"version":1,"event":"fuzz-2026","venue":"east","node":"n","records":[{"seq":2,"prev":"x","hash":"y","payload":"{\"kind\":\"ballot\",\"session\":\"S1\",\"box\":\"B1\",\"status\":\"valid\",\"marks\":{\"D01\":\"satisfied\"}}"}]}' \
    > .build-fuzz/corpus/seed-ballot
binary="$(swift build --product batch-fuzzer --build-path .build-fuzz --show-bin-path \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING)/batch-fuzzer"
"$binary" .build-fuzz/corpus -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=4096 \
    -artifact_prefix=.build-fuzz/crashes/ -print_final_stats=1 2>&1 | tee .build-fuzz/last-run.log | \
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::|ERROR|SUMMARY" || true
if grep -q "ERROR: libFuzzer\|ERROR: AddressSanitizer\|Fatal error" .build-fuzz/last-run.log; then
    echo "the fuzzer found a problem: see .build-fuzz/crashes and .build-fuzz/last-run.log" >&2
    exit 1
fi
echo "corpus: $(ls .build-fuzz/corpus | wc -l) inputs"
