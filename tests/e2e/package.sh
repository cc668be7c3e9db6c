#!/usr/bin/env bash
# The Debian package, installed for real in a clean Debian 12 (debootstrap, minbase) and
# run under the systemd unit's hardening:
#
# 1. builds the .deb (packaging/build-deb.sh; PROFILE=dev here to spare CI a release
#    build: the packaging is the same), and checks its contents and control data;
# 2. installs it with dpkg in a fresh bookworm chroot: the files, modes and owners, the
#    `picket` group, the conffile, `picket --version`;
# 3. `systemd-analyze verify` prints nothing for the installed unit, and
#    `systemd-analyze security --offline` scores it (printed; the README keeps it);
# 4. runs `picket run` from the chroot the way the unit would (systemd is not PID 1 here,
#    so its settings are applied by hand): a network namespace, a mount namespace in which
#    the whole file system is read-only but /var/lib/picket and /etc/picket, a private
#    /tmp, the unit's CapabilityBoundingSet and NoNewPrivileges through setpriv. It must
#    still read a log it does not own (CAP_DAC_READ_SEARCH, not CAP_DAC_OVERRIDE), raise
#    the brute-force alert, put the attacker in its nftables set (CAP_NET_ADMIN), answer
#    /api/health and tell a NOTIFY_SOCKET it is ready;
# 5. purges the package: the store, the group and the unit are gone.
#
# Usage: tests/e2e/package.sh   (as root; tests/run.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "package.sh: $*"; }
fail() { echo "package.sh: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root"

PROFILE=dev packaging/build-deb.sh >/dev/null
DEB=$(ls target/debian/picket_*_amd64.deb | tail -1)
say "built $DEB"

# --- 1. contents -------------------------------------------------------------------------
contents=$(dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}')
for f in ./usr/bin/picket ./usr/lib/systemd/system/picket.service ./etc/picket/picket.yaml \
    ./usr/share/man/man1/picket.1.gz ./usr/share/man/man1/picket-run.1.gz \
    ./usr/share/bash-completion/completions/picket ./usr/share/zsh/vendor-completions/_picket \
    ./usr/share/fish/vendor_completions.d/picket.fish ./usr/share/picket/rules/ssh-brute-force.yaml \
    ./usr/share/picket/checks/ssh-permit-root-login.yaml ./usr/share/doc/picket/copyright; do
    grep -q " $f\$" <<<"$contents" || fail "$f is not in the package"
done
dpkg-deb -f "$DEB" Depends | grep -q adduser || fail "Depends lacks adduser"
[ "$(dpkg-deb -I "$DEB" conffiles)" = "/etc/picket/picket.yaml" ] || fail "conffiles"
ls target/debian/picket-dbgsym_*_amd64.ddeb >/dev/null || fail "no -dbgsym package"
file_info=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/bin/picket | file -)
grep -q "stripped" <<<"$file_info" && ! grep -q "not stripped" <<<"$file_info" \
    || fail "the packaged binary carries its debug info: $file_info"

# --- 2. install in a clean Debian 12 -----------------------------------------------------
CACHE=target/tmp/debootstrap-bookworm.tar
ROOT=$(mktemp -d /tmp/picket-pkg.XXXXXX)
NS="pkpkg$$"
cleanup() {
    set +e
    [ -n "${PICKET_PID:-}" ] && kill "$PICKET_PID" 2>/dev/null && wait "$PICKET_PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    umount -R "$ROOT/proc" 2>/dev/null
    rm -rf "$ROOT"
}
trap cleanup EXIT
if [ ! -f "$CACHE" ]; then
    say "debootstrap bookworm (minbase, with adduser, nftables and systemd for verify)"
    mkdir -p target/tmp
    tmp=$(mktemp -d /tmp/picket-debootstrap.XXXXXX)
    debootstrap --variant=minbase --include=adduser,nftables,systemd bookworm "$tmp" \
        http://deb.debian.org/debian >/dev/null
    tar -C "$tmp" -cf "$CACHE" .
    rm -rf "$tmp"
fi
tar -C "$ROOT" -xf "$CACHE"
cp "$DEB" "$ROOT/tmp/picket.deb"
chroot "$ROOT" dpkg -i /tmp/picket.deb >/dev/null
chroot "$ROOT" dpkg-query -W -f='${Status}' picket | grep -q "install ok installed" || fail "not installed"
chroot "$ROOT" getent group picket >/dev/null || fail "no picket group"
[ "$(chroot "$ROOT" stat -c '%a %U %G' /var/lib/picket)" = "750 root picket" ] || fail "/var/lib/picket: $(chroot "$ROOT" stat -c '%a %U %G' /var/lib/picket)"
[ "$(chroot "$ROOT" stat -c '%a %U %G' /etc/picket/picket.yaml)" = "640 root picket" ] || fail "picket.yaml: $(chroot "$ROOT" stat -c '%a %U %G' /etc/picket/picket.yaml)"
chroot "$ROOT" picket --version | grep -q '^picket [0-9]' || fail "picket --version"
chroot "$ROOT" test -L /etc/systemd/system/multi-user.target.wants/picket.service || fail "the unit is not enabled"
say "installed: files, group, modes, conffile, unit enabled"

# --- 3. the unit -------------------------------------------------------------------------
verify=$(systemd-analyze verify --man=no --root="$ROOT" /usr/lib/systemd/system/picket.service 2>&1) || true
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"
score=$(systemd-analyze security --offline=true --root="$ROOT" picket.service 2>/dev/null | tail -1)
say "systemd-analyze security: ${score#→ }"

# --- 4. running under the unit's hardening -----------------------------------------------
unit=$ROOT/usr/lib/systemd/system/picket.service
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g')
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
grep -q '^NoNewPrivileges=yes' "$unit" || fail "NoNewPrivileges"
grep -q '^ProtectSystem=strict' "$unit" || fail "ProtectSystem"

ATT=203.0.113.77
LOG=$ROOT/var/log/auth-pkg.log
: >"$LOG"
# Owned by another user, not world-readable: only CAP_DAC_READ_SEARCH lets root read it.
chown 4242:4242 "$LOG"
chmod 0640 "$LOG"
cat >"$ROOT/etc/picket/test.yaml" <<EOF
listen: 127.0.0.1:8470
logs: [{ path: /var/log/auth-pkg.log }]
journald: off
start_at: beginning
snapshot_interval_secs: 10
metrics_interval_secs: 0
checks_interval_secs: 0
file_integrity: { enabled: false }
lan: { interval_secs: 0 }
traffic: { interval_secs: 0 }
response: { block_ip: { mode: enforce } }
EOF
ip netns add "$NS"
ip -n "$NS" link set lo up
NOTIFY=$ROOT/tmp-notify.sock
python3 - "$NOTIFY" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
open(sys.argv[1] + ".log", "w").write(s.recv(4096).decode())
PY
LISTENER=$!
for _ in $(seq 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
ip netns exec "$NS" unshare --mount --propagation private bash -c '
    set -e
    R=$1; caps=$2
    mount --bind "$R" "$R"
    mount --bind "$R/var/lib/picket" "$R/var/lib/picket"
    mount --bind "$R/etc/picket" "$R/etc/picket"
    mount -o remount,bind,ro "$R"
    mount -t proc proc "$R/proc"
    mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
    exec chroot "$R" /usr/bin/env NOTIFY_SOCKET=/tmp-notify.sock \
        setpriv --bounding-set=-all,+$caps --no-new-privs \
        /usr/bin/picket run --config /etc/picket/test.yaml' _ "$ROOT" "$caps" \
    >"$ROOT/picket-run.log" 2>&1 &
PICKET_PID=$!

wait_until() {
    local secs=$1 what=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || { cat "$ROOT/picket-run.log" >&2; fail "timed out: $what"; }
        sleep 0.2
    done
}
healthy() { ip netns exec "$NS" curl -fsS http://127.0.0.1:8470/api/health >/dev/null 2>&1; }
wait_until 60 "/api/health" healthy
wait $LISTENER || fail "no readiness message on NOTIFY_SOCKET"
grep -q "READY=1" "$NOTIFY.log" || fail "readiness: $(cat "$NOTIFY.log")"
say "running under the hardening: /api/health answers, READY=1 sent"

for i in $(seq 1 8); do
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.000000+00:00) pkg sshd[$((4000 + i))]: Failed password for root from $ATT port $((50000 + i)) ssh2" >>"$LOG"
done
banned() { ip netns exec "$NS" nft list set inet picket blocked4 2>/dev/null | grep -q "$ATT"; }
wait_until 30 "the ban of $ATT in the namespace's nftables" banned
grep -q "cannot read" "$ROOT/picket-run.log" && fail "a read failed: $(grep 'cannot read' "$ROOT/picket-run.log")"
say "the log it does not own was read and $ATT is in Picket's nftables set"
kill "$PICKET_PID"
wait "$PICKET_PID" || fail "picket run did not stop cleanly: $(tail -5 "$ROOT/picket-run.log")"
PICKET_PID=
umount "$ROOT/proc" 2>/dev/null || true

# --- 5. purge ----------------------------------------------------------------------------
rm -f "$ROOT/etc/picket/test.yaml"
chroot "$ROOT" dpkg --purge picket >/dev/null
[ ! -e "$ROOT/var/lib/picket" ] || fail "/var/lib/picket survived the purge"
! chroot "$ROOT" getent group picket >/dev/null || fail "the picket group survived the purge"
[ ! -e "$ROOT/usr/lib/systemd/system/picket.service" ] || fail "the unit survived the purge"
say "purged"
say PASS
