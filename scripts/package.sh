#!/usr/bin/env bash
# Builds the Debian packages an operator installs with apt, once, at the central office:
#   sanmin-venue-node_VERSION-REVISION_amd64.deb and sanmin-aggregator_VERSION-REVISION_amd64.deb,
# from a release build with the Swift runtime linked in (--static-swift-stdlib), so the machines they go to need
# no Swift at all; and SHA256SUMS beside them, signed with gpg (SHA256SUMS.sign) unless --unsigned.
#
# Usage: scripts/package.sh [--out DIR] [--revision N] [--sign-key KEYID | --unsigned] [--with-dependencies]
#                           [--binaries DIR]
#   --out DIR        where the packages go (default dist/)
#   --revision N     the Debian revision (default 1): VERSION-N, where VERSION is sourceVersion in
#                    Sources/Shared/Support/Release.swift. A rebuild of the same release gets the next revision.
#   --sign-key KEYID the gpg key that signs SHA256SUMS (gpg's default keyring; GNUPGHOME to use another). Its
#                    public half is written beside the packages as sanmin-archive-keyring.gpg; the fingerprint it
#                    prints is what the central office reads to the venues over the phone.
#   --unsigned       no signature (a developer's packages; docs/operations.md says why venues must refuse them)
#   --with-dependencies
#                    also DIR/deps/: every Debian package the two need, and what those need (apt-get download, from
#                    this machine's Debian release), with a Packages index: a venue laptop with no network installs
#                    from the stick (docs/operations.md). SHA256SUMS covers them too.
#   --binaries DIR   package the venue-node and aggregator already built in DIR (built with
#                    --static-swift-stdlib) instead of making a release build: scripts/package-test.sh --quick
#                    packages the test suite's debug build this way.
# The Depends lines come from the binaries' own dynamic libraries (dpkg-shlibdeps): libc6, libcurl4, libsqlite3-0,
# libqrencode4, … — Debian's runtime packages, never the -dev ones. docs/operations.md, "Install from a package".
set -euo pipefail
usage() {
    echo "usage: $0 [--out DIR] [--revision N] [--sign-key KEYID | --unsigned] [--with-dependencies]" \
        "[--binaries DIR]" >&2
    exit 64
}
# Paths given on the command line are the caller's; the script works from the source tree.
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
revision=1 sign_key="" unsigned=no binaries="" with_dependencies=no
source_tree="$(cd "$(dirname "$0")/.." && pwd)"
out="$source_tree/dist"
while [ $# -gt 0 ]; do
    case "$1" in
    --out | --revision | --sign-key | --binaries) [ $# -ge 2 ] || usage ;;
    esac
    case "$1" in
    --out) out="$(absolute "$2")"; shift 2 ;;
    --revision) revision="$2"; shift 2 ;;
    --sign-key) sign_key="$2"; shift 2 ;;
    --unsigned) unsigned=yes; shift ;;
    --binaries) binaries="$(absolute "$2")"; shift 2 ;;
    --with-dependencies) with_dependencies=yes; shift ;;
    *) usage ;;
    esac
done
cd "$source_tree"
[[ "$revision" =~ ^[1-9][0-9]*$ ]] || { echo "$0: --revision must be a positive number, not '$revision'" >&2; exit 64; }
if [ -z "$sign_key" ] && [ "$unsigned" = no ]; then
    echo "$0: give --sign-key KEYID (the central office's package key), or --unsigned for a developer's build" >&2
    exit 64
fi

upstream="$(scripts/source-version.sh)"
version="$upstream-$revision"
commit="$(git rev-parse HEAD)"
# Built from anything but the commit (a change, or a new file, in what goes into the packages): say so.
[ -z "$(git status --porcelain -- Sources Package.swift deploy)" ] || commit="$commit-modified"
# Reproducible: every date in the packages is the commit's.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
maintainer="${SANMIN_MAINTAINER:-Sanmin tally maintainers <sanmin-tally@example.org>}"
homepage="${SANMIN_HOMEPAGE:-https://sanmin-tally.example.org/}"
# xz, as Debian's own packages; scripts/package-test.sh --quick asks for gzip, several times faster to make.
compression="${SANMIN_DEB_COMPRESSION:-xz}"

# What packaging needs on the build machine: dpkg-dev (dpkg-shlibdeps), binutils (strip), gnupg; and what the
# build needs, unless the binaries are given.
[ -n "$binaries" ] || scripts/setup.sh --build-only
missing=()
for package in dpkg-dev binutils gnupg; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if [ -z "$binaries" ]; then
    for product in venue-node aggregator; do
        swift build -c release --static-swift-stdlib --scratch-path .build-package --product "$product"
    done
    binaries="$(swift build -c release --static-swift-stdlib --scratch-path .build-package --show-bin-path)"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# A binary that still needs the Swift toolchain's libraries would fail on a venue laptop: refuse it here.
check_static() {
    local needed
    needed="$(readelf -d "$1" | grep -E 'NEEDED|RUNPATH|RPATH' || true)"
    if grep -qE 'libswift|libFoundation|libdispatch|libBlocksRuntime|/opt/swift|swift/linux' <<<"$needed"; then
        echo "$0: $1 links the Swift runtime dynamically; build it with --static-swift-stdlib:" >&2
        echo "$needed" >&2
        exit 1
    fi
}

# dpkg-shlibdeps reads a debian/control: a minimal one in a scratch directory.
depends_of() {
    local dir="$work/shlibdeps"
    mkdir -p "$dir/debian"
    printf 'Source: sanmin-tally\n\nPackage: sanmin\nArchitecture: any\n' >"$dir/debian/control"
    (cd "$dir" && dpkg-shlibdeps -O "$@") | sed -n 's/^shlibs:Depends=//p'
}

# build_package NAME BINARY UNITS CONFFILES DOCS
build_package() {
    local name="$1" binary="$2" units="$3" conffiles="$4" docs="$5"
    local root="$work/$name" doc="$work/$name/usr/share/doc/$name"
    install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/sanmin" "$doc"

    check_static "$binaries/$binary"
    install -m 0755 "$binaries/$binary" "$root/usr/bin/$binary"
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/$binary"
    scripts/stamp-build-info.sh "$root/usr/bin/$binary" "$version" "$commit"
    local printed
    printed="$("$root/usr/bin/$binary" --version)"
    [ "$printed" = "$version (commit $commit)" ] ||
        { echo "$0: $binary --version printed '$printed', not '$version (commit $commit)'" >&2; exit 1; }

    for unit in $units; do
        sed -e "s|/usr/local/bin/|/usr/bin/|g" \
            -e "s|file:/usr/local/share/doc/sanmin/|file:/usr/share/doc/$name/|" \
            -e "s|Installed by deploy/install.sh\( standby\)\?;|Installed by the $name package;|" \
            "deploy/$unit" >"$root/lib/systemd/system/$unit"
        chmod 0644 "$root/lib/systemd/system/$unit"
    done
    : >"$root/DEBIAN/conffiles"
    for conf in $conffiles; do
        local mode=0644
        [ "$conf" = venue-node-follow.conf ] && mode=0640 # will hold a token (postinst gives it to root:sanmin)
        install -m "$mode" "deploy/$conf" "$root/etc/sanmin/$conf"
        echo "/etc/sanmin/$conf" >>"$root/DEBIAN/conffiles"
    done
    for file in $docs; do install -m 0644 "docs/$file" "$doc/$file"; done
    install -m 0644 deploy/debian/copyright "$doc/copyright"
    {
        printf '%s (%s) unstable; urgency=medium\n\n' "$name" "$version"
        printf '  * Release %s, built from commit\n    %s.\n\n' "$upstream" "$commit"
        printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")"
    } | gzip -9n >"$doc/changelog.Debian.gz"
    chmod 0644 "$doc/changelog.Debian.gz"
    # What lintian says and is meant: the package is not uploaded to Debian (no bug to close); the standby's
    # configuration is 0640 because it will hold an enrolment token.
    install -d -m 0755 "$root/usr/share/lintian/overrides"
    {
        echo "$name: initial-upload-closes-no-bugs"
        if [ "$name" = sanmin-venue-node ]; then
            echo "$name: non-standard-file-perm 0640 != 0644 [etc/sanmin/venue-node-follow.conf]"
        fi
    } >"$root/usr/share/lintian/overrides/$name"
    chmod 0644 "$root/usr/share/lintian/overrides/$name"
    for script in postinst prerm postrm; do
        install -m 0755 "deploy/debian/$name/$script" "$root/DEBIAN/$script"
    done

    local depends size control
    depends="$(depends_of -e"$root/usr/bin/$binary")"
    [ -n "$depends" ] || { echo "$0: dpkg-shlibdeps found no dependencies for $binary" >&2; exit 1; }
    # As dpkg-gencontrol counts it: each file's size in KiB, rounded up, and one for each directory.
    size="$(cd "$root" && find . ! -path './DEBIAN*' ! -path . -printf '%y %s\n' |
        awk '$1 == "d" { total += 1; next } { total += int(($2 + 1023) / 1024) } END { print total }')"
    control="$(<"deploy/debian/$name/control")"
    control="${control//@VERSION@/"$version"}"
    control="${control//@MAINTAINER@/"$maintainer"}"
    control="${control//@INSTALLED_SIZE@/"$size"}"
    control="${control//@DEPENDS@/"$depends"}"
    control="${control//@HOMEPAGE@/"$homepage"}"
    printf '%s\n' "$control" >"$root/DEBIAN/control"
    # Every file but the conffiles, as dh_md5sums does (debsums would flag a configuration the operator changed).
    (cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | LC_ALL=C sort -z |
        xargs -0 md5sum) >"$root/DEBIAN/md5sums"
    chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
    find "$root" -type d -exec chmod 0755 {} +
    find "$root" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +

    runtime_packages+=" adduser init-system-helpers ca-certificates $(sed -e 's/([^)]*)//g' -e 's/[,|]/ /g' <<<"$depends")"
    local deb="$out/${name}_${version}_amd64.deb"
    dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >/dev/null
    echo "built $deb ($(du -h "$deb" | cut -f1)), Depends: adduser, init-system-helpers, $depends"
}

runtime_packages=""
build_package sanmin-venue-node venue-node "venue-node.service venue-node-follow.service" \
    "venue-node.conf venue-node-follow.conf" \
    "operations.md venue-node.md desk.md voting.md roster.md event-format.md security.md"
build_package sanmin-aggregator aggregator "aggregator.service" "aggregator.conf" \
    "operations.md aggregator.md dashboard.md reconciliation.md event-format.md roster.md security.md"

rm -rf "$out/deps"
if [ "$with_dependencies" = yes ]; then
    # Everything the packages need, recursively (what a laptop already has is skipped there by apt); then an
    # index, so that the folder is an archive apt reads with `deb [trusted=yes] file:/…/deps ./`.
    mkdir -p "$out/deps"
    # shellcheck disable=SC2086 # the package names are words
    closure="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
        --no-enhances $runtime_packages | grep '^[a-z0-9]' | LC_ALL=C sort -u)"
    # shellcheck disable=SC2086
    (cd "$out/deps" && apt-get download -q $closure >/dev/null 2>&1) ||
        { echo "$0: apt-get download of the dependencies failed" >&2; exit 1; }
    (cd "$out/deps" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null)
    echo "dependencies: $(find "$out/deps" -name '*.deb' | wc -l) package(s) in $out/deps ($(du -sh "$out/deps" | cut -f1))"
fi
(
    cd "$out"
    rm -f SHA256SUMS SHA256SUMS.sign
    files=("sanmin-venue-node_${version}_amd64.deb" "sanmin-aggregator_${version}_amd64.deb")
    if [ -d deps ]; then
        while IFS= read -r file; do files+=("$file"); done < <(find deps -type f | LC_ALL=C sort)
    fi
    sha256sum "${files[@]}" >SHA256SUMS
)
if [ "$unsigned" = no ]; then
    # As Debian signs its images' SHA256SUMS: a detached, armoured signature beside the file.
    gpg --batch --yes --local-user "$sign_key" --armor --detach-sign --output "$out/SHA256SUMS.sign" "$out/SHA256SUMS"
    # The public key, as a keyring gpgv reads (gpgv is on every Debian: apt needs it; gpg may not be).
    gpg --batch --yes --export "$sign_key" >"$out/sanmin-archive-keyring.gpg"
    echo "signed $out/SHA256SUMS with the key whose fingerprint is $(gpg --batch --with-colons --fingerprint "$sign_key" |
        awk -F: '$1 == "fpr" { print $10; exit }')"
fi
echo "packages of $version (commit $commit) in $out"
