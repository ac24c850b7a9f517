#!/bin/sh
# etcd 3.5 for `orchestrate lab up --etcd 3.5`, called by scripts/setup.sh (fast when already there).
#
# Debian 12 ships etcd 3.4 only. Debian 13 (trixie) ships etcd-server and etcd-client 3.5.16 (with
# etcdutl); their binaries need only libc >= 2.34, so they run here. This script fetches the two packages
# from the same Debian archive this machine already uses (the URIs and Signed-By of its own entry for
# its release), with `apt-get download`, and unpacks them with `dpkg-deb -x` into a folder of the lab's
# own. Nothing is installed and the machine's apt sources, preferences and package lists stay as they
# were: the temporary trixie sources entry, its apt pin and its package lists live in a private apt
# configuration in a temporary folder that is removed afterwards.
#
# Result: /opt/orchestrate-lab/etcd-3.5/usr/bin/{etcd,etcdctl,etcdutl} and .../VERSION.
set -eu

target=${ORCHESTRATE_LAB_ETCD35_DIR:-/opt/orchestrate-lab/etcd-3.5}
suite=trixie
packages="etcd-server etcd-client"

say() { printf 'setup: %s\n' "$*" >&2; }

have() {
  for binary in etcd etcdctl etcdutl; do [ -x "$target/usr/bin/$binary" ] || return 1; done
  return 0
}
have && exit 0

missing=""
[ "$(id -u)" = 0 ] || missing="$missing root"
for tool in apt-get dpkg-deb; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
if [ -n "$missing" ]; then
  say "missing: etcd 3.5 for the lab ($target/usr/bin/etcd, etcdctl, etcdutl); fetching it needs:$missing"
  say "fix: run \`sh scripts/setup.sh\` as root on Debian 12 (it downloads Debian 13's etcd-server and etcd-client"
  say "     with apt-get download), or unpack those two .deb files yourself with dpkg-deb -x into $target"
  exit 1
fi

# This machine's own Debian archive entry for its release: which archive, and which key signs it.
. /etc/os-release
codename=${VERSION_CODENAME:-}
entry=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(SOURCESENTRY)' \
  "Release: $codename" "Target-Of: deb" "Identifier: Packages" "Component: main" 2>/dev/null | head -n 1)
uri=${entry%% *}
source_entry=${entry#* }
if [ -z "$codename" ] || [ -z "$entry" ]; then
  say "missing: etcd 3.5 for the lab, and apt has no Debian entry for release \"$codename\" (component main) to fetch it from"
  say "fix: add the Debian archive to /etc/apt/sources.list.d/, or unpack Debian 13's etcd-server and etcd-client into $target"
  exit 1
fi
source_file=${source_entry%:*}
source_line=${source_entry##*:}
case $source_file in
  *.sources)
    # deb822: the Signed-By field of the stanza that starts at that line.
    signed_by=$(awk -v start="$source_line" 'NR >= start { if ($0 ~ /^[ \t]*$/) exit; if (tolower($1) == "signed-by:") { print $2; exit } }' "$source_file") ;;
  *)
    # One-line format: `deb [signed-by=FILE ...] URI SUITE COMPONENTS`.
    signed_by=$(sed -n "${source_line}p" "$source_file" | sed -n 's/.*signed-by=\([^] ]*\).*/\1/p') ;;
esac

work=$(mktemp -d /tmp/orchestrate-etcd35.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/empty" "$work/debs"
{
  echo "Types: deb"
  echo "URIs: $uri"
  echo "Suites: $suite"
  echo "Components: main"
  [ -n "$signed_by" ] && echo "Signed-By: $signed_by"
} >"$work/trixie.sources"
# The pin keeps anything else from coming from trixie should these options ever be used to install.
printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$suite" >"$work/preferences"
set -- -q \
  -o "Dir::Etc::SourceList=$work/trixie.sources" -o "Dir::Etc::SourceParts=$work/empty" \
  -o "Dir::Etc::Preferences=$work/preferences" -o "Dir::Etc::PreferencesParts=$work/empty" \
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" \
  -o "APT::Sandbox::User=root" -o "Debug::NoLocking=true"

say "fetching etcd 3.5 for the lab: Debian $suite's $packages from $uri (apt sources unchanged)"
apt-get "$@" update >"$work/update.log" 2>&1 || { cat "$work/update.log" >&2; say "apt-get update of the temporary $suite entry failed"; exit 1; }
(cd "$work/debs" && apt-get "$@" download $(printf '%s/'"$suite"' ' $packages)) >"$work/download.log" 2>&1 ||
  { cat "$work/download.log" >&2; say "apt-get download $packages from $suite failed"; exit 1; }

# Unpack next to the target and rename into place, so a concurrent run or an interrupted one never leaves half a folder.
mkdir -p "$(dirname "$target")"
staging="$target.partial.$$"
rm -rf "$staging"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$staging"; done
version=$(dpkg-deb -f "$work"/debs/etcd-server_*.deb Version)
printf '%s\n' "$version" >"$staging/VERSION"
"$staging/usr/bin/etcd" --version | grep -q '^etcd Version: 3\.5\.' || { rm -rf "$staging"; say "the unpacked etcd is not 3.5"; exit 1; }
if mv -T "$staging" "$target" 2>/dev/null; then
  say "etcd $version for the lab in $target"
else
  rm -rf "$staging"
  have || { say "could not move etcd 3.5 into $target"; exit 1; }
fi
