#!/usr/bin/env bash
# What traffic accounting costs `picket run` on a router with many tracked flows (root):
# a router namespace (nftables forward chain with connection tracking) in front of a LAN
# host that opens FLOWS UDP flows (kept 10 minutes by a raised UDP timeout), then
# `picket run` with its defaults for traffic (every 10 s) and LAN discovery (every 300 s),
# the other collectors off; prints the CPU share over SECS seconds after a warm-up.
# Usage: sudo benches/scripts/traffic_cost.sh target/release/picket [FLOWS] [SECS]
set -euo pipefail
picket=$(realpath "$1"); flows=${2:-5000}; secs=${3:-120}
r=pkc-router; h=pkc-host; o=pkc-out
cleanup() {
    for ns in $r $h $o; do
        for p in $(ip netns pids $ns 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del $ns 2>/dev/null || true
    done
    rm -rf "$dir"
}
dir=$(mktemp -d); trap cleanup EXIT
for ns in $r $h $o; do ip netns del $ns 2>/dev/null || true; ip netns add $ns; ip -n $ns link set lo up; done
ip link add pkc-a type veth peer name pkc-b
ip link set pkc-a netns $r; ip link set pkc-b netns $h
ip -n $r link set pkc-a name lan0; ip -n $h link set pkc-b name eth0
ip link add pkc-c type veth peer name pkc-d
ip link set pkc-c netns $r; ip link set pkc-d netns $o
ip -n $r link set pkc-c name wan0; ip -n $o link set pkc-d name eth0
ip -n $r addr add 198.51.100.1/24 dev lan0; ip -n $r addr add 203.0.113.1/24 dev wan0
ip -n $h addr add 198.51.100.10/24 dev eth0; ip -n $o addr add 203.0.113.5/24 dev eth0
for x in "$r lan0" "$r wan0" "$h eth0" "$o eth0"; do set -- $x; ip -n $1 link set $2 up; done
ip -n $h route add default via 198.51.100.1; ip -n $o route add default via 203.0.113.1
ip netns exec $r sysctl -qw net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_udp_timeout=600
ip netns exec $r nft 'add table inet pkc; add chain inet pkc routed { type filter hook forward priority 0; policy accept; }; add rule inet pkc routed ct state established,related accept'
ip netns exec $r sysctl -qw net.netfilter.nf_conntrack_acct=1
ip netns exec $h /usr/bin/python3 -c "
import socket
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range($flows): s.sendto(b'x'*100, ('203.0.113.5', 1024 + p))"
echo "tracked flows: $(ip netns exec $r sh -c "wc -l < /proc/net/nf_conntrack")"
cat > "$dir/picket.yaml" <<YAML
data_dir: $dir/data
listen: 127.0.0.1:8479
logs: [{ path: $dir/empty.log }]
journald: "off"
snapshot_interval_secs: 0
checks_interval_secs: 0
metrics_interval_secs: 0
file_integrity: { enabled: false }
YAML
: > "$dir/empty.log"
ip netns exec $r "$picket" run --config "$dir/picket.yaml" --rules "$(dirname "$0")/../../rules" 2> "$dir/log" &
sleep 20
pid=$(ip netns pids $r | head -1)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); sleep "$secs"; t1=$(ticks)
echo "picket run: $(( t1 - t0 )) ticks of CPU in ${secs} s = $(awk -v d=$(( t1 - t0 )) -v s="$secs" -v hz="$hz" 'BEGIN { printf "%.2f", 100 * d / hz / s }') % of one core"
grep "traffic:" "$dir/log" || true
echo "resident: $(awk '/VmRSS/ {print $2 " kB"}' /proc/$pid/status)"
