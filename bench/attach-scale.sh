#!/bin/bash
# Benchmark: attach 1,000 vcpus across 100 VMs and measure serrord's
# memory growth per attached vcpu and its wake-ups over 10 idle seconds.
# Prints figures and ratios against the targets; asserts nothing.
# Usage: bench/attach-scale.sh [VMS] [VCPUS_PER_VM] [IDLE_SECONDS]   (from the build tree)
set -eu

vms=${1:-100}
per_vm=${2:-10}
idle=${3:-10}
. "$(dirname "$0")/lib.sh"
bench_start_serrord warning "[Attach]\\nMaxConnections=$((vms + 10))\\n"

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

bench_attach_vms "$vms" "$per_vm"
want=$((vms * per_vm))
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
