#!/bin/bash
# Benchmark (issue 3): attach 1,000 vcpus across 100 VMs and measure serrord's
# memory growth per attached vcpu and its wake-ups over 10 idle seconds.
# Prints figures and ratios against the targets; asserts nothing.
# Usage: bench/attach-scale.sh [VMS] [VCPUS_PER_VM] [IDLE_SECONDS]   (from the build tree)
set -eu

vms=${1:-100}
per_vm=${2:-10}
idle=${3:-10}
top_builddir=${abs_top_builddir:-$PWD}
top_srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
client="$top_builddir/tests/helpers/attach-client"
serrord="$top_builddir/daemon/serrord"
serrorctl="$top_builddir/cli/serrorctl"

[ -w /dev/kvm ] || { echo "bench: /dev/kvm is not usable here" >&2; exit 77; }
[ -x "$client" ] || { echo "bench: build the tests first (make check TESTS=)" >&2; exit 77; }

run=$(mktemp -d /tmp/serror-bench.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        [ -f "$run/serrord.pid" ] && kill "$(cat "$run/serrord.pid")" 2>/dev/null
        [ -f "$run/dbus.pid" ] && kill "$(cat "$run/dbus.pid")" 2>/dev/null
        sleep 0.3
        rm -rf "$run"
}
trap cleanup EXIT

sed -e "s|@SOCKET@|$run/bus|" -e "s|@POLICYDIR@|$top_srcdir/systemd|" "$top_srcdir/tests/bats/system-bus.conf.in" >"$run/bus.conf"
dbus-daemon --config-file="$run/bus.conf" --nofork --nopidfile >/dev/null 2>&1 &
echo $! >"$run/dbus.pid"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$run/bus"
while [ ! -S "$run/bus" ]; do sleep 0.05; done
printf '[Attach]\nMaxConnections=%d\n' $((vms + 10)) >"$run/serrord.conf"
"$serrord" --log-target=stderr --log-level=warning --config="$run/serrord.conf" --attach-socket="$run/attach.sock" 2>"$run/serrord.log" &
spid=$!
echo $spid >"$run/serrord.pid"
until "$serrorctl" status >/dev/null 2>&1; do sleep 0.05; done

# Private memory (what serrord itself allocated), from smaps_rollup.
private_kib() {
        awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' "/proc/$spid/smaps_rollup"
}
switches() {
        awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 } END { print s }' "/proc/$spid/status"
}

# One VM attached and detached first, so one-time allocations (history, bus
# buffers, the receive buffer) are not counted against the vcpus.
"$client" "$run/attach.sock" attach warmup 1 </dev/null >/dev/null
sleep 0.2
mem_before=$(private_kib)

for i in $(seq "$vms"); do
        mkfifo "$run/in.$i"
        "$client" "$run/attach.sock" attach "bench-$i" "$per_vm" <"$run/in.$i" >"$run/out.$i" 2>&1 &
        pids+=($!)
        exec {fd}>"$run/in.$i"
done
want=$((vms * per_vm))
for _ in $(seq 600); do
        n=$("$serrorctl" status --json | jq .attached_vcpus)
        [ "$n" -eq "$want" ] && break
        sleep 0.1
done
[ "$n" -eq "$want" ] || { echo "bench: only $n of $want vcpus attached" >&2; exit 1; }
sleep 0.5
mem_after=$(private_kib)

sw_before=$(switches)
sleep "$idle"
sw_after=$(switches)

growth_kib=$((mem_after - mem_before))
per_vcpu_bytes=$((growth_kib * 1024 / want))
wakeups=$((sw_after - sw_before))
echo "attach-scale: $vms VMs x $per_vm vcpus = $want vcpus attached to serrord"
echo "  serrord private memory: ${mem_before} KiB before, ${mem_after} KiB after: +${growth_kib} KiB"
echo "  memory growth per attached vcpu: ${per_vcpu_bytes} bytes (target <= 1024: ratio $(awk "BEGIN { printf \"%.2f\", $per_vcpu_bytes / 1024 }"))"
echo "  serrord fds: $(ls "/proc/$spid/fd" | wc -l)"
echo "  context switches over ${idle} idle seconds: ${wakeups} (target 0)"
