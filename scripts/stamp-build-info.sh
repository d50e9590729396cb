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
# A version is at most 64 characters, as heartbeats carry it; a commit, 80 (a hash and "-modified").
[[ "$version" =~ ^[A-Za-z0-9.+~:-]{1,64}$ ]] || { echo "$0: '$version' is not a version or commit" >&2; exit 64; }
[[ "$commit" =~ ^[A-Za-z0-9.+~:-]{1,80}$ ]] || { echo "$0: '$commit' is not a version or commit" >&2; exit 64; }
stamp="$(printf 'version=%s\ncommit=%s' "$version" "$commit")"
[ -f "$binary" ] || { echo "$0: $binary is not a file" >&2; exit 1; }
offsets="$(LC_ALL=C grep -obUaF "$marker" "$binary" | cut -d: -f1 || true)"
count="$(printf '%s' "$offsets" | grep -c . || true)"
[ "$count" -eq 1 ] || { echo "$0: the marker should be in $binary once; it is there $count time(s)" >&2; exit 1; }
start=$((offsets + ${#marker}))
# The area after the marker holds nothing, or an earlier stamp: anything else is not the area, and is not written.
current="$(dd if="$binary" bs=1 skip="$start" count=$((area - ${#marker})) status=none | tr -d '\000')"
nl=$'\n'
if [ -n "$current" ] && ! [[ "$current" =~ ^version=[^$nl]*${nl}commit=[^$nl]*$ ]]; then
    echo "$0: the bytes after the marker in $binary are not a stamp area; nothing was written" >&2
    exit 1
fi
head -c $((area - ${#marker})) /dev/zero | dd of="$binary" bs=1 seek="$start" conv=notrunc status=none
printf '%s\n' "$stamp" | dd of="$binary" bs=1 seek="$start" conv=notrunc status=none
