#!/usr/bin/env bash
# Stamps the version and the commit a binary was built from into the binary itself: the area that
# Sources/CBuildInfo reserves after its marker. Stamping after the build changes no compiler flag, so the
# stamped binary is byte for byte the build plus these few bytes, and nothing is rebuilt.
# Usage: scripts/stamp-build-info.sh BINARY VERSION COMMIT
# `BINARY --version` then prints "VERSION (commit COMMIT)".
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BINARY VERSION COMMIT" >&2; exit 64; }
binary="$1" version="$2" commit="$3"
marker="SANMIN-BUILD-INFO:"
area=256 # SANMIN_BUILD_INFO_SIZE in Sources/CBuildInfo/build_info.c
for value in "$version" "$commit"; do
    [[ "$value" =~ ^[A-Za-z0-9.+~:-]{1,80}$ ]] || { echo "$0: '$value' is not a version or commit" >&2; exit 64; }
done
stamp="$(printf 'version=%s\ncommit=%s' "$version" "$commit")"
[ -f "$binary" ] || { echo "$0: $binary is not a file" >&2; exit 1; }
offsets="$(grep -obUaF "$marker" "$binary" | cut -d: -f1 || true)"
count="$(printf '%s' "$offsets" | grep -c . || true)"
[ "$count" -eq 1 ] || { echo "$0: the marker should be in $binary once; it is there $count time(s)" >&2; exit 1; }
start=$((offsets + ${#marker}))
head -c $((area - ${#marker})) /dev/zero | dd of="$binary" bs=1 seek="$start" conv=notrunc status=none
printf '%s\n' "$stamp" | dd of="$binary" bs=1 seek="$start" conv=notrunc status=none
