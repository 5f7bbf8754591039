#!/bin/sh
# Smoke test of serror-test-vmm on this host's /dev/kvm: events, commands, kicks, fds, clean exits.
#
# Usage: tests/vmm/vmm-smoke.sh [PATH-TO-serror-test-vmm]
# (default $abs_top_builddir/tests/vmm/serror-test-vmm). Exit status follows
# Automake's test driver: 0 pass, 1 fail, 77 skip, 99 hard error.
set -u

vmm=${1:-${abs_top_builddir:-.}/tests/vmm/serror-test-vmm}
failed=0

skip() {
        echo "SKIP: $*"
        exit 77
}

[ -x "$vmm" ] || { echo "ERROR: $vmm not built"; exit 99; }
[ -e /dev/kvm ] || skip "/dev/kvm does not exist"
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        skip "/dev/kvm is not accessible to $(id -un)"
fi
"$vmm" --help >/dev/null 2>&1 || skip "$vmm does not run here (a cross build?)"

tmp=$(mktemp -d)
pid=
cleanup() {
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
        exec 3>&- 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

check() {
        name=$1
        shift
        if "$@"; then
                echo "ok - $name"
        else
                echo "not ok - $name"
                failed=1
        fi
}

count() {
        grep -cF "$1" "$tmp/out"
}

nth() {
        grep -F "$1" "$tmp/out" | sed -n "$2p"
}

wait_for() {
        tries=0
        while [ "$(count "$1")" -lt "$2" ]; do
                tries=$((tries + 1))
                [ $tries -gt $(($3 * 10)) ] && return 1
                sleep 0.1
        done
}

contains() {
        case $1 in
        *"$2"*) return 0 ;;
        esac
        return 1
}

# start ARGS...: runs the VMM on a fifo, fd 3 writes its commands
start() {
        rm -f "$tmp/in" "$tmp/out"
        mkfifo "$tmp/in"
        "$vmm" "$@" <"$tmp/in" >"$tmp/out" 2>>"$tmp/err" &
        pid=$!
        exec 3>"$tmp/in"
}

# Options.
"$vmm" --vcpus=0 2>/dev/null
check "--vcpus=0 is refused" test $? -eq 2
"$vmm" --kick-signal=9 2>/dev/null
check "--kick-signal=9 (SIGKILL) is refused" test $? -eq 2
"$vmm" --label=novalue 2>/dev/null
check "--label without = is refused" test $? -eq 2

# 1. Periodic exits, two vcpus, a real-time kick signal.
start --name=smoke --vcpus=2 --label=a=1 --label=tier=smoke --kick-signal=40
check "ready" wait_for '"event":"ready"' 1 20
ready=$(nth '"event":"ready"' 1)
check "ready names the VM" contains "$ready" '"name":"smoke","pid":'"$pid"','
check "ready lists the labels" contains "$ready" '"labels":{"a":"1","tier":"smoke"}'
check "ready gives the kick signal" contains "$ready" '"kick_signal":40'

# Each vcpu fd the VMM announces is that KVM vcpu (what serrord will verify).
for i in 0 1; do
        fd=$(echo "$ready" | sed -n "s/.*{\"index\":$i,\"tid\":[0-9]*,\"fd\":\([0-9]*\)}.*/\1/p")
        tid=$(echo "$ready" | sed -n "s/.*{\"index\":$i,\"tid\":\([0-9]*\),.*/\1/p")
        check "vcpu $i fd $fd is anon_inode:kvm-vcpu:$i" \
                test "$(readlink "/proc/$pid/fd/${fd:-none}")" = "anon_inode:kvm-vcpu:$i"
        check "vcpu $i tid $tid is a thread of the VMM" test -d "/proc/$pid/task/${tid:-none}"
done
# SigCgt is a hex mask, bit N-1 for signal N: 40 is bit 39.
sigcgt=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$pid/status")
check "a handler is installed for the kick signal" test $(((0x$sigcgt >> 39) & 1)) -eq 1

echo "mask all" >&3
check "mask all" wait_for '"event":"mask"' 2 10
echo "unmask 1" >&3
check "unmask 1" wait_for '"event":"unmask","vcpu":1,"masked":false' 1 10
if [ "$(uname -m)" = aarch64 ]; then
        echo "inject 0 0xc11" >&3
        # vcpu 0 is masked: the SError stays pending, written exactly.
        check "inject on arm64: vcpu 0 wrote the ISS" wait_for '"event":"self-inject","vcpu":0,"iss":"0xc11","pending_before":0,' 1 10
        check "inject on arm64: it reads back pending" contains "$(nth '"event":"self-inject"' 1)" '"result":"ok","pending_after":1,"esr_after":"0xc11"'
else
        # A corrected machine check: logged in bank 1, no #MC (DOMAIN.md section 8).
        echo "inject 0 0x9c00000000000001" >&3
        check "inject on x86_64: vcpu 0 wrote bank 1" wait_for '"event":"self-inject","vcpu":0,"status":"0x9c00000000000001","bank":1,"mcg_status":"0x0","result":"ok"' 1 10
        # A status without VAL is refused by KVM.
        echo "inject 1 0x3d000000000000c0" >&3
        check "inject on x86_64: a status without VAL is refused" wait_for '"event":"self-inject","vcpu":1,"status":"0x3d000000000000c0","bank":1,"mcg_status":"0x7","result":"EINVAL"' 1 10
fi
echo "frobnicate" >&3
check "unknown command is an error event" wait_for '"event":"error","command":"frobnicate"' 1 10
sleep 1
echo "status" >&3
check "status" wait_for '"event":"status"' 1 10
check "heartbeats arrive" test -n "$(nth '"event":"status"' 1 | grep -o '"index":0,[^}]*"heartbeats":[1-9]')"
check "vcpu 0 shows as masked" test -n "$(nth '"event":"status"' 1 | grep -o '"index":0,[^}]*"masked":true')"

# EOF on stdin keeps the VM running; SIGTERM stops it cleanly.
exec 3>&-
sleep 1
check "EOF on stdin keeps running" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
status=$?
pid=
check "SIGTERM: exit status 0" test $status -eq 0
check "SIGTERM: exit event" contains "$(nth '"event":"exit"' 1)" '"reason":"signal","signal":15,"status":0'

# 2. A vcpu that never exits by itself: only kicks bring it out of KVM_RUN.
start --vcpus=2 --guest-exits=never
check "never: ready" wait_for '"event":"ready"' 1 20
if [ "$(uname -m)" = aarch64 ]; then
        echo "inject 1 0x11" >&3
else
        echo "inject 1 0xbd000000000000c0" >&3
fi
if [ "$(uname -m)" = aarch64 ]; then
        check "never: kicked vcpu 1 served the request" wait_for '"event":"self-inject","vcpu":1,' 1 10
        check "never: vcpu 1 took the SError" wait_for '"event":"serror","vcpu":1,"esr":"0xbe000011"' 1 10
else
        check "never: kicked vcpu 1 served the request" wait_for '"event":"self-inject","vcpu":1,' 1 10
        check "never: vcpu 1 took the machine check (SRAO)" \
                wait_for '"event":"mce","vcpu":1,"bank":1,"status":"0xbd000000000000c0","addr":"0x0","misc":"0x0","mcg_status":"0x7"' 1 10
fi
echo "mask 0" >&3
check "never: mask without exits" wait_for '"event":"mask","vcpu":0' 1 10
sleep 0.5
echo "status" >&3
check "never: status" wait_for '"event":"status"' 1 10
line=$(nth '"event":"status"' 1)
check "never: vcpu 0 never left KVM_RUN" test -n "$(echo "$line" | grep -o '"index":0,[^}]*"runs":0,')"
check "never: vcpu 1 left it for the kick only" test -n "$(echo "$line" | grep -o '"index":1,[^}]*"eintr":[1-9][0-9]*,"heartbeats":0,')"
echo "quit" >&3
wait "$pid"
status=$?
pid=
check "quit: exit status 0" test $status -eq 0
check "quit: exit event" wait_for '"event":"exit","reason":"quit","signal":0,"status":0' 1 5

# 4. arm64, --reset-on: the guest resets (PSCI SYSTEM_RESET) after an SError
# of a class it is told to, as Linux with panic=-1 would; other classes
# leave it running.
if [ "$(uname -m)" = aarch64 ]; then
        "$vmm" --reset-on=uer,bogus 2>/dev/null
        check "--reset-on with an unknown class is refused" test $? -eq 2
        start --name=reset --vcpus=1 --reset-on=uer,uc
        check "reset-on: ready" wait_for '"event":"ready"' 1 20
        echo "inject 0 0x1811" >&3
        check "reset-on: the guest takes a CE and reports it" wait_for '"event":"serror","vcpu":0,"esr":"0xbe001811"' 1 10
        echo "status" >&3
        check "reset-on: after a CE the VM still runs" wait_for '"event":"status"' 1 10
        check "reset-on: no system event for a CE" test "$(count '"event":"system-event"')" -eq 0
        echo "inject 0 0xc11" >&3
        check "reset-on: the guest takes a UER and reports it" wait_for '"event":"serror","vcpu":0,"esr":"0xbe000c11"' 1 10
        check "reset-on: then it resets through PSCI" wait_for '"event":"system-event","vcpu":0,"type":"reset"' 1 10
        wait "$pid"
        status=$?
        pid=
        check "reset-on: the VMM exits 0, for the system event" test $status -eq 0
        check "reset-on: exit event" wait_for '"event":"exit","reason":"system-event","signal":0,"status":0' 1 5
fi

if [ $failed -ne 0 ]; then
        echo "--- VMM output"
        cat "$tmp/out"
        echo "--- VMM stderr"
        cat "$tmp/err"
fi
exit $failed
