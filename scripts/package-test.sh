#!/usr/bin/env bash
# The Debian packages on a fresh Debian with no Swift: builds both packages twice (revisions 1 and 2 of the same
# release, as the upgrade drill), checks the signed SHA256SUMS as a venue would and runs lintian; then, in a root
# made with debootstrap (no toolchain, no package mirror of Swift, no source tree):
#   - installs revision 1 with apt (the runtime dependencies come from Debian), as on a venue laptop;
#   - the aggregator serves /healthz; the node initialises and enrols, records offline, verifies its chain and
#     prints its report;
#   - installs revision 2 over it: the configuration an operator changed, every record and the chain are still
#     there, the data directory is byte for byte untouched, running services are restarted;
#   - removes (configuration and data kept) and purges (configuration gone, data kept and named), installs again
#     and the node's chain still verifies.
# There is no systemd as PID 1 in the root: the maintainer scripts' calls to systemctl and deb-systemd-invoke are
# recorded by stand-ins and checked; deb-systemd-helper is Debian's own, and its symlinks are checked.
#
# Usage: scripts/package-test.sh [--quick]
#   --quick  packages a debug build (venue-node and aggregator with --static-swift-stdlib, into .build-static)
#            instead of a release build: what scripts/test.sh runs. Without it, a release build (scripts/package.sh,
#            into .build-package), about fifteen minutes the first time here.
# Needs root (debootstrap, chroot, mount) and Debian's package mirror (DEBIAN_MIRROR, default deb.debian.org).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=no
[ "${1:-}" = "--quick" ] && quick=yes
if [ "$(id -u)" -ne 0 ]; then
    echo "package-test: skipped: needs root (debootstrap, chroot, mount)"
    exit 0
fi
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"

missing=()
for package in debootstrap lintian gnupg dpkg-dev binutils curl; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work="$(mktemp -d /tmp/sanmin-package-test.XXXXXX)"
root="$work/root"
aggregator_pid=""
cleanup() {
    [ -n "$aggregator_pid" ] && kill "$aggregator_pid" 2>/dev/null || true
    # Whatever still runs inside the root (a daemon the test started) stops before the root goes.
    for process in /proc/[0-9]*; do
        [ "$(readlink "$process/root" 2>/dev/null)" = "$root" ] && kill -9 "${process#/proc/}" 2>/dev/null || true
    done
    for mount in "$root/proc" "$root/dev"; do mountpoint -q "$mount" && umount -l "$mount"; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
step() { echo "package-test: $*"; }

# --- Build, sign, check as a venue would ------------------------------------------------------------------------
export GNUPGHOME="$work/gnupg"
install -d -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Sanmin tally test packages <packages@example.org>' \
    ed25519 sign 1d 2>/dev/null
key="$(gpg --batch --with-colons --fingerprint | awk -F: '$1 == "fpr" { print $10; exit }')"
binaries=()
if [ "$quick" = yes ]; then
    # A debug build of the two executables with the Swift runtime inside, in a folder of its own: the test bundle
    # cannot be linked that way, and .build/ must stay as the tests' build left it.
    for product in venue-node aggregator; do
        swift build --static-swift-stdlib --scratch-path .build-static --product "$product" 2>&1 | grep -v '^warning: \|^    /' | tail -1
    done
    binaries=(--binaries "$(swift build --static-swift-stdlib --scratch-path .build-static --show-bin-path)")
    export SANMIN_DEB_COMPRESSION=gzip
fi
scripts/package.sh --out "$work/r1" --revision 1 --sign-key "$key" --with-dependencies "${binaries[@]}"
scripts/package.sh --out "$work/r2" --revision 2 --sign-key "$key" "${binaries[@]}"
version="$(scripts/source-version.sh)"
node1="$work/r1/sanmin-venue-node_${version}-1_amd64.deb" agg1="$work/r1/sanmin-aggregator_${version}-1_amd64.deb"
node2="$work/r2/sanmin-venue-node_${version}-2_amd64.deb" agg2="$work/r2/sanmin-aggregator_${version}-2_amd64.deb"

step "lintian"
lintian --fail-on error --tag-display-limit 0 "$node1" "$agg1" | tee "$work/lintian.txt" || fail "lintian reports errors"
echo "package-test: lintian: $(grep -c '^E:' "$work/lintian.txt" || true) error(s)," \
    "$(grep -c '^W:' "$work/lintian.txt" || true) warning(s)"

step "the packaged units pass systemd-analyze verify"
for deb in "$node1" "$agg1"; do
    extracted="$work/extracted/$(basename "$deb" .deb)"
    mkdir -p "$extracted/units"
    dpkg-deb -x "$deb" "$extracted"
    # verify checks that ExecStart exists: point it at the extracted binary.
    for unit in "$extracted"/lib/systemd/system/*.service; do
        sed "s|/usr/bin/|$extracted/usr/bin/|" "$unit" >"$extracted/units/$(basename "$unit")"
    done
    if command -v systemd-analyze >/dev/null; then
        systemd-analyze verify "$extracted"/units/*.service || fail "systemd-analyze verify of $(basename "$deb")"
    else
        echo "package-test: systemd-analyze verify skipped: no systemd-analyze here (Debian's systemd package)"
    fi
    if grep -h '^ExecStart=' "$extracted"/lib/systemd/system/*.service | grep -qv '^ExecStart=/usr/bin/'; then
        fail "a packaged unit starts something outside /usr/bin"
    fi
done

# --- A fresh Debian with no Swift -------------------------------------------------------------------------------
step "debootstrap $suite from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
# systemd "runs" for the maintainer scripts, and stand-ins record what they ask of it. They go in /usr/sbin, first
# on the PATH apt gives dpkg (DPkg::Path), before Debian's own deb-systemd-invoke in /usr/bin.
mkdir -p "$root/run/systemd/system"
for tool in systemctl deb-systemd-invoke; do
    printf '#!/bin/sh\necho "%s $*" >>/var/log/systemd-calls\n' "$tool" >"$root/usr/sbin/$tool"
    chmod 0755 "$root/usr/sbin/$tool"
done
# A command inside the root, with a clean environment and no terminal.
root_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
    DEBIAN_FRONTEND=noninteractive)
in_root() { chroot "$root" "${root_env[@]}" "$@" </dev/null; }
calls() { cat "$root/var/log/systemd-calls" 2>/dev/null || true; }
called() { grep -qx "$1" "$root/var/log/systemd-calls" 2>/dev/null; }
# The documented commands run as the services' user (docs/operations.md: sudo -u sanmin …).
as_sanmin() { in_root runuser -u sanmin -- "$@"; }
in_root sh -c '! command -v swift && [ ! -e /opt/swift ]' >/dev/null || fail "the root has a Swift toolchain"
mkdir -p "$root/tmp/packages" "$root/media/usb"
cp "$node1" "$agg1" "$node2" "$agg2" "$root/tmp/packages/"
cp -r "$work/r1" "$root/media/usb/dist"

step "the venue's check, inside the root, as docs/operations.md says: gpgv and sha256sum, on any Debian"
verify_sums='cd /media/usb/dist && gpgv --keyring ./sanmin-archive-keyring.gpg SHA256SUMS.sign SHA256SUMS'
in_root sh -c "$verify_sums" >"$work/gpgv.txt" 2>&1 || { cat "$work/gpgv.txt"; fail "SHA256SUMS.sign does not verify"; }
grep -q "using EDDSA key $key\$" "$work/gpgv.txt" || fail "gpgv does not name the key $key: $(cat "$work/gpgv.txt")"
grep -q 'Good signature from "Sanmin tally test packages' "$work/gpgv.txt" || fail "gpgv: $(cat "$work/gpgv.txt")"
in_root sh -c 'cd /media/usb/dist && sha256sum --check --ignore-missing --quiet SHA256SUMS' ||
    fail "a file does not match SHA256SUMS"
echo "package-test: the signature names key $key; $(wc -l <"$root/media/usb/dist/SHA256SUMS") file(s) match" \
    "SHA256SUMS, the stick's dependencies among them"
# A list with one more line, and one with a changed sum: gpgv refuses both.
for change in "echo '0000000000000000000000000000000000000000000000000000000000000000  extra.deb' >>SHA256SUMS" \
    "sed -i '1{s/^0/1/;t;s/^./0/}' SHA256SUMS"; do
    rm -rf "$root/media/usb/changed"
    cp -r "$root/media/usb/dist" "$root/media/usb/changed"
    (cd "$root/media/usb/changed" && eval "$change")
    ! cmp -s "$root/media/usb/dist/SHA256SUMS" "$root/media/usb/changed/SHA256SUMS" || fail "the change changed nothing"
    if in_root sh -c "${verify_sums//dist/changed}" >/dev/null 2>&1; then fail "a changed SHA256SUMS still verified"; fi
done
rm -rf "$root/media/usb/changed"
echo "package-test: a changed SHA256SUMS is refused by gpgv"

step "install revision 1 of the node from the stick, with no network (docs/operations.md)"
# No network at all (a network namespace of its own), and no index but the stick's: anything missing from the
# stick fails the install instead of coming from the mirror.
mv "$root/etc/apt/sources.list" "$work/sources.list"
find "$root/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -delete
echo "deb [trusted=yes] file:/media/usb/dist/deps ./" >"$root/etc/apt/sources.list.d/sanmin-stick.list"
stick=(-o Dir::Etc::sourcelist=sources.list.d/sanmin-stick.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0)
offline() { unshare --net chroot "$root" "${root_env[@]}" "$@" </dev/null; }
offline apt-get update -qq "${stick[@]}" >"$work/install1.log" 2>&1 || { cat "$work/install1.log"; fail "apt-get update from the stick"; }
offline apt-get install -y "${stick[@]}" "/media/usb/dist/$(basename "$node1")" >>"$work/install1.log" 2>&1 ||
    { tail -30 "$work/install1.log"; fail "the offline install of revision 1"; }
if grep -q 'http://' "$work/install1.log"; then fail "the offline install reached the network"; fi
echo "package-test: offline: $(grep -c '^Unpacking ' "$work/install1.log") package(s) unpacked from the stick"
rm "$root/etc/apt/sources.list.d/sanmin-stick.list"
mv "$work/sources.list" "$root/etc/apt/sources.list"
step "install revision 1 of the aggregator with apt, online"
in_root apt-get update -qq
in_root apt-get install -y -qq "/tmp/packages/$(basename "$agg1")" >>"$work/install1.log" 2>&1 ||
    { tail -30 "$work/install1.log"; fail "apt-get install of revision 1 of the aggregator"; }
in_root venue-node --version | grep -qx "${version}-1 (commit [0-9a-f]*\(-modified\)\?)" ||
    fail "venue-node --version: $(in_root venue-node --version)"
in_root aggregator --version | grep -q "^${version}-1 " || fail "aggregator --version"
echo "package-test: installed: $(in_root venue-node --version)"
in_root getent passwd sanmin >/dev/null || fail "no sanmin user"
[ "$(in_root stat -c '%U:%G %a' /etc/sanmin/venue-node-follow.conf)" = "root:sanmin 640" ] ||
    fail "venue-node-follow.conf is $(in_root stat -c '%U:%G %a' /etc/sanmin/venue-node-follow.conf)"
for unit in venue-node.service aggregator.service; do
    [ -L "$root/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "$unit is not enabled"
done
[ ! -L "$root/etc/systemd/system/multi-user.target.wants/venue-node-follow.service" ] ||
    fail "the standby's unit was enabled on a first install"
called "systemctl --system daemon-reload" || fail "the first install did not reload systemd: $(calls)"
! grep -q 'deb-systemd-invoke' "$root/var/log/systemd-calls" 2>/dev/null || fail "a first install started a service: $(calls)"
for data in venue-node aggregator; do
    [ "$(in_root stat -c '%U:%G %a' "/var/lib/$data")" = "sanmin:sanmin 700" ] && [ -z "$(ls -A "$root/var/lib/$data")" ] ||
        fail "/var/lib/$data is not an empty directory of sanmin's"
done

step "the aggregator serves /healthz; the node initialises, enrols, records offline, verifies, reports"
install -m 0644 examples/ordos-2021/event.json "$root/etc/sanmin/event.json" # the same file on every node
# A port below the kernel's ephemeral range (32768…) that nothing listens on.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 10000))
until port_free "$port"; do port=$((20000 + RANDOM % 10000)); done
as_sanmin aggregator init --data-dir /var/lib/aggregator --event /etc/sanmin/event.json >/dev/null
token="$(as_sanmin aggregator nodes enroll --data-dir /var/lib/aggregator --venue dalate 2>/dev/null | grep -o 'sme_[A-Za-z0-9_-]*' | head -1)"
[ -n "$token" ] || fail "no enrolment token"
start_aggregator() {
    chroot "$root" "${root_env[@]}" runuser -u sanmin -- aggregator serve --data-dir /var/lib/aggregator \
        --event /etc/sanmin/event.json --listen "127.0.0.1:$port" </dev/null >>"$work/aggregator.log" 2>&1 &
    aggregator_pid=$!
    for _ in $(seq 1 100); do
        kill -0 "$aggregator_pid" 2>/dev/null || break # it ended (a port taken since?): not someone else's answer
        curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    cat "$work/aggregator.log"
    fail "the aggregator does not answer /healthz"
}
stop_aggregator() { kill "$aggregator_pid"; wait "$aggregator_pid" 2>/dev/null || true; aggregator_pid=""; }
start_aggregator
echo "package-test: /healthz: $(curl -fsS "http://127.0.0.1:$port/healthz")"
aggregator_key="$(as_sanmin aggregator identity --data-dir /var/lib/aggregator | grep -o '[A-Za-z0-9+/]\{43\}=' | head -1)"
[ -n "$aggregator_key" ] || fail "no aggregator key from aggregator identity"
as_sanmin venue-node init --data-dir /var/lib/venue-node --event /etc/sanmin/event.json --venue dalate \
    --aggregator "http://127.0.0.1:$port" --aggregator-key "$aggregator_key" --token "$token" >"$work/init.log" 2>&1 ||
    { cat "$work/init.log"; fail "venue-node init"; }
stop_aggregator
echo "# changed at the venue" >>"$root/etc/sanmin/venue-node.conf"
for n in 1 2 3 4 5; do
    as_sanmin venue-node checkin --data-dir /var/lib/venue-node --session S1 --rep "R000$n" --category makers \
        >/dev/null || fail "check-in $n"
done
as_sanmin venue-node box open --data-dir /var/lib/venue-node --session S1 --box B1 >/dev/null
as_sanmin venue-node box close --data-dir /var/lib/venue-node --session S1 --box B1 --issued 5 --returned 5 >/dev/null
as_sanmin venue-node verify --data-dir /var/lib/venue-node >"$work/verify1.txt" || fail "verify: $(cat "$work/verify1.txt")"
as_sanmin venue-node report --data-dir /var/lib/venue-node >"$work/report1.txt" || fail "report"
# The attendance line of the venue's first session: 5 checked in against a quota of 220.
grep -Eq '^达拉特旗分会场 +S1 +220 +5 ' "$work/report1.txt" || fail "the report: $(cat "$work/report1.txt")"
as_sanmin venue-node status --data-dir /var/lib/venue-node --json >"$work/status1.json"
grep -q '"last_seq" *: *7' "$work/status1.json" || fail "status before the upgrade: $(cat "$work/status1.json")"
echo "package-test: offline: 7 records (5 check-ins, a box opened and closed); verify: $(head -1 "$work/verify1.txt")"
# The SHA-256 of every file of the given data directories (under /var/lib in the root), but their locks.
sums() { (cd "$root/var/lib" && find "$@" -type f ! -name .lock -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
sums venue-node aggregator >"$work/data-before.txt"

step "upgrade to revision 2 over it"
: >"$root/var/log/systemd-calls"
# The operator disabled the aggregator's unit on this machine (what `systemctl disable` does): it stays disabled.
rm "$root/etc/systemd/system/multi-user.target.wants/aggregator.service"
in_root apt-get install -y -qq "/tmp/packages/$(basename "$node2")" "/tmp/packages/$(basename "$agg2")" \
    >"$work/install2.log" 2>&1 || { tail -30 "$work/install2.log"; fail "apt-get install of revision 2"; }
in_root venue-node --version | grep -q "^${version}-2 " || fail "after the upgrade: $(in_root venue-node --version)"
grep -qx "# changed at the venue" "$root/etc/sanmin/venue-node.conf" || fail "the upgrade overwrote venue-node.conf"
called "deb-systemd-invoke try-restart venue-node.service venue-node-follow.service" ||
    fail "the upgrade did not restart the node's services: $(calls)"
called "deb-systemd-invoke try-restart aggregator.service" ||
    fail "the upgrade did not restart the aggregator: $(calls)"
! grep -q 'deb-systemd-invoke stop' "$root/var/log/systemd-calls" || fail "the upgrade stopped a service: $(calls)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/venue-node.service" ] || fail "the upgrade disabled the node"
[ ! -L "$root/etc/systemd/system/multi-user.target.wants/aggregator.service" ] ||
    fail "the upgrade enabled again the aggregator the operator had disabled"
sums venue-node aggregator >"$work/data-after.txt"
cmp -s "$work/data-before.txt" "$work/data-after.txt" || fail "the upgrade changed the data directories"
as_sanmin venue-node verify --data-dir /var/lib/venue-node >/dev/null || fail "verify after the upgrade"
as_sanmin venue-node status --data-dir /var/lib/venue-node --json >"$work/status2.json"
cmp -s "$work/status1.json" "$work/status2.json" || fail "status changed across the upgrade"
as_sanmin venue-node checkin --data-dir /var/lib/venue-node --session S1 --rep R0006 --category makers >/dev/null
start_aggregator
as_sanmin venue-node sync --data-dir /var/lib/venue-node >"$work/sync.log" 2>&1 || { cat "$work/sync.log"; fail "sync"; }
stop_aggregator
held="$(as_sanmin venue-node status --data-dir /var/lib/venue-node --json)"
grep -q '"pending" *: *0' <<<"$held" || fail "after sync: $held"
as_sanmin aggregator nodes list --data-dir /var/lib/aggregator >"$work/nodes.txt"
[ "$(awk '$1 == "dalate" { print $5 }' "$work/nodes.txt")" = 8 ] || fail "the aggregator's chain of dalate: $(cat "$work/nodes.txt")"
echo "package-test: upgraded: configuration kept, data untouched, 8 records synced, services restarted"

step "remove, purge, install again"
sums venue-node >"$work/node-before-remove.txt"
: >"$root/var/log/systemd-calls"
in_root apt-get remove -y -qq sanmin-venue-node >/dev/null 2>&1 || fail "apt-get remove"
[ ! -e "$root/usr/bin/venue-node" ] || fail "remove left the binary"
grep -qx "# changed at the venue" "$root/etc/sanmin/venue-node.conf" || fail "remove took the configuration"
called "deb-systemd-invoke stop venue-node.service venue-node-follow.service" ||
    fail "remove did not stop the services: $(calls)"
in_root apt-get purge -y sanmin-venue-node >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge"; }
grep -q "the data directory /var/lib/venue-node was kept" "$work/purge.log" || fail "purge did not name the data"
[ ! -e "$root/etc/sanmin/venue-node.conf" ] || fail "purge left venue-node.conf"
[ ! -L "$root/etc/systemd/system/multi-user.target.wants/venue-node.service" ] || fail "purge left the unit enabled"
sums venue-node >"$work/node-after-purge.txt"
cmp -s "$work/node-before-remove.txt" "$work/node-after-purge.txt" || fail "remove or purge changed the node's data"
in_root apt-get install -y -qq "/tmp/packages/$(basename "$node2")" >/dev/null 2>&1 || fail "install after purge"
[ -L "$root/etc/systemd/system/multi-user.target.wants/venue-node.service" ] || fail "not enabled after reinstall"
as_sanmin venue-node verify --data-dir /var/lib/venue-node >/dev/null || fail "verify after purge and reinstall"
as_sanmin venue-node status --data-dir /var/lib/venue-node --json | grep -q '"last_seq" *: *8' ||
    fail "records after purge and reinstall"
sums aggregator >"$work/aggregator-before-purge.txt"
in_root apt-get purge -y sanmin-aggregator >"$work/purge-aggregator.log" 2>&1 ||
    { cat "$work/purge-aggregator.log"; fail "purge of the aggregator"; }
grep -q "the data directory /var/lib/aggregator was kept" "$work/purge-aggregator.log" ||
    fail "the aggregator's purge did not name the data"
[ ! -e "$root/usr/bin/aggregator" ] && [ ! -e "$root/etc/sanmin/aggregator.conf" ] || fail "the aggregator's purge left files"
sums aggregator >"$work/aggregator-after-purge.txt"
cmp -s "$work/aggregator-before-purge.txt" "$work/aggregator-after-purge.txt" || fail "purge changed the aggregator's data"
echo "package-test: passed (packages of $(in_root venue-node --version))"
