#!/usr/bin/env bash
# Picket's one test command (the README's second command; .ci/run calls it).
#
# Installs the Debian packages the tests drive for real (OpenSSH's sshd and client,
# systemd-journald, iproute2 for network namespaces, nftables, iptables and ipset, logrotate, rsyslog, THC Hydra
# and jq for the end-to-end script, Chromium and ChromeDriver for the dashboard's browser
# tests, aiosmtpd and openssl for a local SMTP sink with STARTTLS, ieee-data for the IEEE
# registries the vendor lookup is compared with), then checks formatting and lints, runs every test, and the end-to-end script. Runs as root: the tests start sshd in network namespaces and a
# systemd-journald by hand. Nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run.sh: run as root (sudo tests/run.sh): the tests start sshd in network namespaces and systemd-journald" >&2
    exit 1
fi

packages=(openssh-server openssh-client iproute2 systemd procps chromium chromium-driver logrotate nftables iptables ipset curl rsyslog hydra jq python3-aiosmtpd openssl ieee-data dnsmasq-base samba avahi-daemon)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "tests/run.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export CARGO_TERM_COLOR=never
# No incremental cache: a one-off CI build gains nothing from it and it costs gigabytes of disk.
export CARGO_INCREMENTAL=0
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --no-fail-fast
# End to end with real components: THC Hydra against sshd logging through rsyslog, Picket
# blocking it with nftables, in network namespaces (see the script's header).
bash tests/e2e/hydra.sh target/debug/picket
