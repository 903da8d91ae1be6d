#!/usr/bin/env bash
# Installs the Debian package into a throwaway root (nothing is installed on this machine)
# and checks what an admin gets: the files, their owners and modes, the conffile, the
# system user, a working `opsync`, the man pages and completions, systemd units that
# verify and a timer left disabled; then removes and purges it.
#
#   scripts/test-deb.sh target/debian/opsync_0.1.0-1_amd64.deb
#
# Needs root (dpkg sets owners) and dpkg, systemd-sysusers, systemd-tmpfiles and
# systemd-analyze from Debian. The maintainer scripts run chrootless with DPKG_ROOT set,
# as `dpkg --root --force-script-chrootless` runs them.
set -euo pipefail

deb=${1:?usage: scripts/test-deb.sh PACKAGE.deb}
[ -f "$deb" ] || { echo "test-deb: no such package: $deb" >&2; exit 1; }
root=$(mktemp -d /tmp/opsync-deb-root.XXXXXX)
trap 'rm -rf "$root"' EXIT
checks=0
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "test-deb: ok: $*"; }

# An empty system: a dpkg database and an /etc with root alone.
mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers} "$root"/var/log "$root"/etc
: > "$root/var/lib/dpkg/status"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
dpkg_root() {
    # libc6 and friends are this machine's, not the throwaway root's: --force-depends.
    dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null "$@"
}

dpkg_root --install "$deb" >"$root/install.log" 2>&1 || { cat "$root/install.log" >&2; fail "dpkg --install"; }
state=$(dpkg-query --root="$root" -W -f='${db:Status-Abbrev}${Version}' opsync)
[[ $state == "ii "* ]] || fail "the package is not installed: $state"
ok "installed into $root ($state)"

# The system user and group, from the root's own files.
uid=$(awk -F: '$1 == "opsync" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "opsync" { print $3 }' "$root/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || fail "no opsync user or group in $root/etc/passwd and group"
[ "$uid" -lt 1000 ] || fail "opsync's uid $uid is not a system uid"
home_shell=$(awk -F: '$1 == "opsync" { print $6 " " $7 }' "$root/etc/passwd")
[[ $home_shell == "/var/lib/opsync "*nologin ]] || fail "opsync's home and shell: $home_shell"
ok "system user opsync ($uid:$gid), home /var/lib/opsync, no login shell"

# path -> "mode owner:group" (numeric ids, as the root's files define them).
expect() {
    local path=$1 want=$2 got
    [ -e "$root$path" ] || fail "$path is missing"
    got=$(stat -c '%a %u:%g' "$root$path")
    [ "$got" = "$want" ] || fail "$path: $got, not $want"
    ok "$path $want"
}
expect /usr/bin/opsync "755 0:0"
expect /etc/opsync "750 0:$gid"
expect /etc/opsync/opsync.toml "640 0:$gid"
expect /var/lib/opsync "750 $uid:$gid"
expect /usr/lib/systemd/system/opsync-sync.service "644 0:0"
expect /usr/lib/systemd/system/opsync-sync.timer "644 0:0"
expect /usr/lib/sysusers.d/opsync.conf "644 0:0"
expect /usr/lib/tmpfiles.d/opsync.conf "644 0:0"
expect /usr/share/bash-completion/completions/opsync "644 0:0"
expect /usr/share/zsh/vendor-completions/_opsync "644 0:0"
expect /usr/share/fish/vendor_completions.d/opsync.fish "644 0:0"
expect /usr/share/doc/opsync/examples/opsync.toml "644 0:0"

grep -qx /etc/opsync/opsync.toml "$root/var/lib/dpkg/info/opsync.conffiles" \
    || fail "/etc/opsync/opsync.toml is not a conffile"
ok "/etc/opsync/opsync.toml is a conffile"
cmp -s "$root/etc/opsync/opsync.toml" opsync.example.toml || fail "the installed configuration is not the example"
ok "the configuration is opsync.example.toml"

# The program runs from the package, and says what it is.
version=$("$root/usr/bin/opsync" --version)
[ "$version" = "opsync $(awk -F'"' '/^version/ { print $2; exit }' Cargo.toml)" ] || fail "opsync --version: $version"
ok "opsync --version: $version"
engine=$(OPSYNC_CACHE_DIR="$root/cache" "$root/usr/bin/opsync" version)
[[ $engine == "opsync-engine "* ]] || fail "opsync version: $engine"
ok "opsync version: $engine"
# The example configuration is not a working set-up: check says so, with status 7.
set +e
out=$(OPSYNC_CACHE_DIR="$root/cache" "$root/usr/bin/opsync" check --config "$root/etc/opsync/opsync.toml" 2>&1)
status=$?
set -e
[ "$status" = 7 ] || fail "opsync check on the example: status $status: $out"
grep -q '✗' <<<"$out" || fail "opsync check names no failed check: $out"
ok "opsync check on the untouched example: status 7, with what to do"

# Man pages, generated from the command line's definition: one per command.
man1=$root/usr/share/man/man1
for page in opsync opsync-sync opsync-check opsync-history opsync-plan; do
    file=$(ls "$man1/$page.1"* 2>/dev/null | head -1)
    [ -n "$file" ] || fail "no man page $page.1"
    text=$(if [[ $file == *.gz ]]; then zcat "$file"; else cat "$file"; fi)
    grep -q "^\.TH $page 1" <<<"$text" || fail "$file has no .TH header"
done
for page in "$man1"/*; do
    [[ $page == *.1.gz ]] && gzip -t "$page" || fail "$page is not a gzipped man page"
done
grep -q 'brake allows' <<<"$(zcat "$man1/opsync-sync.1.gz")" || fail "opsync-sync.1 lacks the command's help"
if command -v man >/dev/null; then
    rendered=$(MANWIDTH=200 man -l "$man1/opsync.1.gz" 2>/dev/null)
    grep -q 'Keeps WHMCS domain records and Openprovider domains in step' <<<"$rendered" \
        || fail "man -l opsync.1 does not render the description"
fi
ok "man pages for opsync and its commands"
[ ! -e "$man1/opsync-man-pages.1" ] && [ ! -e "$man1/opsync-man-pages.1.gz" ] || fail "the hidden man-pages command has a page"
# bash completes the commands.
words=$(bash -c "source '$root/usr/share/bash-completion/completions/opsync'; \
    COMP_WORDS=(opsync hi); COMP_CWORD=1; COMP_LINE='opsync hi'; COMP_POINT=9; _opsync opsync hi opsync; echo \"\${COMPREPLY[*]}\"")
[[ $words == *history* ]] || fail "bash completion of 'opsync hi': $words"
ok "bash completes 'opsync hi' to: $words"

# The units: verified by systemd itself, the timer hourly and left disabled.
# verify resolves the units' dependencies (sysinit.target, ...) inside the root, so it runs
# on a copy of the root that also holds this machine's systemd units.
units=$root/usr/lib/systemd/system
vroot=$root/verify-root
mkdir -p "$vroot"
cp -a "$root/usr" "$root/etc" "$vroot/"
cp -rn /usr/lib/systemd/system/. "$vroot/usr/lib/systemd/system/"
verify=$(systemd-analyze verify --root="$vroot" --man=no \
    "$vroot/usr/lib/systemd/system/opsync-sync.service" \
    "$vroot/usr/lib/systemd/system/opsync-sync.timer" 2>&1) || fail "systemd-analyze verify: $verify"
rm -rf "$vroot"
[ -z "$verify" ] || fail "systemd-analyze verify warns: $verify"
ok "systemd-analyze verify: no complaint"
for line in Type=oneshot User=opsync EnvironmentFile=-/etc/opsync/env ProtectSystem=strict \
    NoNewPrivileges=yes PrivateTmp=yes ReadWritePaths=/var/lib/opsync; do
    grep -qx "$line" "$units/opsync-sync.service" || fail "the service lacks $line"
done
for line in OnCalendar=hourly Persistent=true RandomizedDelaySec=10min; do
    grep -qx "$line" "$units/opsync-sync.timer" || fail "the timer lacks $line"
done
ok "the service runs as opsync, hardened; the timer is hourly, persistent, randomised"
exposure=$(systemd-analyze security --offline=true --root="$root" --no-pager \
    "$units/opsync-sync.service" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "systemd-analyze security gave no exposure level"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' || fail "exposure level $exposure (want 2.5 or lower)"
ok "systemd-analyze security: exposure $exposure"
[ -z "$(find "$root/etc/systemd" -name 'opsync*' 2>/dev/null)" ] || fail "a unit was enabled on install"
ok "the timer is not enabled until the admin enables it"

# Remove keeps the configuration (a conffile); purge takes it and the state.
echo '# edited by the admin' >> "$root/etc/opsync/opsync.toml"
dpkg_root --remove opsync >>"$root/install.log" 2>&1 || { cat "$root/install.log" >&2; fail "dpkg --remove"; }
[ ! -e "$root/usr/bin/opsync" ] || fail "/usr/bin/opsync is left after remove"
grep -q 'edited by the admin' "$root/etc/opsync/opsync.toml" || fail "remove lost the edited configuration"
ok "remove: the program goes, the edited configuration stays"
dpkg_root --purge opsync >>"$root/install.log" 2>&1 || { cat "$root/install.log" >&2; fail "dpkg --purge"; }
[ ! -e "$root/etc/opsync" ] || fail "/etc/opsync is left after purge"
[ ! -e "$root/var/lib/opsync" ] || fail "/var/lib/opsync is left after purge"
ok "purge: the configuration and the state go"

echo "test-deb: all $checks checks passed"
