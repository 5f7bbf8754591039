#!/usr/bin/env bats
# Debian's unchanged QEMU as the VMM: libserror-preload attaches it, and its L2 Linux guest reports the SErrors serrorctl injects (arm64 tier).
#
# The arm64 environment of tests/e2e carries qemu-system-aarch64 from Debian's
# qemu-system-arm package, the preload, and an L2 kernel and initramfs
# (tests/e2e/mkl2-initramfs: its /init prints L2:READY and answers "ping N"
# with "L2:PONG N" on the console). Elsewhere these tests skip.

load helpers

PRELOAD="$abs_top_builddir/agent/.libs/libserror-preload.so"
L2=${SERROR_L2_DIR:-/usr/lib/serror-bats/l2}
UUID=6b1e5ac1-0d1f-4a55-9d3e-2f5a8c0b7e11

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/q.XXXXXX")
        serror_bus_start "$DIR"
        serror_daemon_start "$DIR"
        SOCK="$DIR/attach.sock"
        QEMU_PIDS=
}

teardown() {
        for pid in $QEMU_PIDS; do kill -KILL "$pid" 2>/dev/null || true; done
        serror_daemon_stop "$DIR" || true
        serror_bus_stop "$DIR"
}

require_qemu_l2() {
        [ "$(uname -m)" = aarch64 ] || skip "boots an arm64 L2 guest under QEMU with KVM (the arm64 tier runs it)"
        require_kvm
        command -v qemu-system-aarch64 >/dev/null || skip "qemu-system-aarch64 is not installed"
        [ -f "$L2/vmlinuz" ] && [ -f "$L2/initrd.gz" ] || skip "no L2 kernel and initramfs in $L2"
        [ -f "$PRELOAD" ] || fail "libserror-preload is not built: $PRELOAD"
}

# start_qemu NAME SMP [PREFIX...]: Debian's QEMU booting the L2 guest with the
# preload (none when QEMU_PLAIN=1), attached to $SOCK, named with -name (and -uuid), its console on
# the pipe $DIR/NAME.con.{in,out} and copied to $DIR/NAME.console, its own
# output in $DIR/NAME.log. PREFIX (e.g. unshare ...) runs it, without the
# preload: the preload takes itself out of LD_PRELOAD for children. QEMU_PID
# is the pid started.
start_qemu() {
        local name=$1 smp=$2 preload=(LD_PRELOAD="$PRELOAD")
        shift 2
        [ "${QEMU_PLAIN:-0}" = 1 ] && preload=()
        mkfifo "$DIR/$name.con.in" "$DIR/$name.con.out"
        cat "$DIR/$name.con.out" >"$DIR/$name.console" 3>&- &
        QEMU_PIDS="$QEMU_PIDS $!"
        "$@" env "${preload[@]}" SERROR_ATTACH_SOCKET="$SOCK" \
                qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host -smp "$smp" -m 192 \
                -nodefaults -display none -no-reboot \
                -chardev "pipe,id=con,path=$DIR/$name.con" -serial chardev:con \
                -kernel "$L2/vmlinuz" -initrd "$L2/initrd.gz" \
                -append "console=ttyAMA0 rdinit=/init quiet cryptomgr.notests panic=-1" \
                -name "guest=$name,debug-threads=on" -uuid "$UUID" \
                >"$DIR/$name.log" 2>&1 </dev/null 3>&- &
        QEMU_PID=$!
        QEMU_PIDS="$QEMU_PIDS $QEMU_PID"
}

# wait_attached NAME VM JSON: QEMU NAME attached as VM with the vcpus JSON (each joins at its first KVM_RUN).
wait_attached() {
        wait_until 600 vm_vcpus_are "$2" "$3" || {
                cat "$DIR/$1.log" "$DIR/serrord.log" >&2
                return 1
        }
}

console_has() {
        grep -q "$2" "$DIR/$1.console"
}

# wait_l2 NAME: the L2 guest booted to its /init (up to 90 s under this emulation).
wait_l2() {
        wait_until 900 console_has "$1" "L2:READY" || {
                echo "the L2 guest did not boot; QEMU's output:" >&2
                cat "$DIR/$1.log" >&2
                tail -n 20 "$DIR/$1.console" >&2
                return 1
        }
}

# ping_l2 NAME N: the L2 guest answers on its console.
ping_l2() {
        echo "ping $2" >"$DIR/$1.con.in"
        wait_until 100 console_has "$1" "L2:PONG $2"
}

vm_listed() {
        serrorctl list --json | jq -e --arg n "$1" 'any(.[]; .name == $n)' >/dev/null
}

vm_not_listed() {
        ! vm_listed "$1"
}

# gone_within_a_second NAME: once its QEMU has been reaped, serrord forgets NAME within a second.
gone_within_a_second() {
        local t0
        t0=$(now_ms)
        wait_until 10 vm_not_listed "$1" || fail "serrord still lists $1 $(($(now_ms) - t0)) ms after its QEMU ended"
}

@test "preload: QEMU attaches by its -name and -uuid; a CE leaves the L2 Linux running, a UER makes it report ESR 0xbe000c11 and panic" {
        require_qemu_l2
        start_qemu l2-a 1
        wait_attached l2-a l2-a "[0]"
        grep -q 'serror-preload: serving VM "l2-a" (name from -name), kick signal 10' "$DIR/l2-a.log"
        run serrorctl list --json
        [ "$(jq -r '.[] | select(.name == "l2-a") | .uuid' <<<"$output")" = "$UUID" ]
        [ "$(jq -r '.[] | select(.name == "l2-a") | .pid' <<<"$output")" = "$QEMU_PID" ]
        wait_l2 l2-a
        ping_l2 l2-a 1

        # A CE: the guest takes it (the agent sees it leave pending) and reports nothing.
        run serrorctl inject --json --wait-reaction=2s l2-a ce
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(jq -r '.[0].reaction.fate' <<<"$output")" = running ]
        [[ "$(jq -r '.[0].reaction.taken_after_usec' <<<"$output")" =~ ^[0-9]+$ ]] || fail "not seen taken: $output"
        ping_l2 l2-a 2 || fail "the L2 guest stopped answering after a CE: $(tail -n 20 "$DIR/l2-a.console")"
        ! console_has l2-a "SError Interrupt"

        # A UER: the L2 kernel names the exact syndrome and panics; panic=-1 resets
        # it, which QEMU (-no-reboot) turns into its exit: the VM's fate.
        run serrorctl inject --json --wait-reaction=30s l2-a uer
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(jq -r '.[0].esr' <<<"$output")" = 0xbe000c11 ]
        console_has l2-a "SError Interrupt on CPU0, code 0x00000000be000c11 -- SError" ||
                fail "no SError line: $(tail -n 20 "$DIR/l2-a.console")"
        console_has l2-a "Kernel panic"
        fate=$(jq -r '.[0].reaction.fate' <<<"$output")
        [ "$fate" = reset ] || [ "$fate" = vmm-exited ] || fail "fate $fate: $output"

        # QEMU exits by itself: serrord forgets the VM.
        wait "$QEMU_PID" || true
        gone_within_a_second l2-a
}

@test "preload: a QEMU with -smp 2 in its own PID namespace, named by SERROR_VM_NAME, attaches with its labels; --vcpu=1 lands on vcpu 1; killed, it is forgotten" {
        require_qemu_l2
        command -v unshare >/dev/null || skip "unshare is not installed"
        start_qemu l2-ns 2 unshare --pid --fork --kill-child env SERROR_VM_NAME=pod-vm SERROR_VM_LABELS=pod=p1,zone=b
        wait_attached l2-ns pod-vm "[0,1]"
        grep -q 'serror-preload: serving VM "pod-vm" (name from SERROR_VM_NAME)' "$DIR/l2-ns.log"
        run serrorctl list --json
        [ "$(jq -c '.[] | select(.name == "pod-vm") | .labels' <<<"$output")" = '{"pod":"p1","zone":"b"}' ]
        # serrord lists the kernel's view of the pid: QEMU is pid 1 in its namespace.
        pid=$(jq -r '.[] | select(.name == "pod-vm") | .pid' <<<"$output")
        [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = 1 ]
        grep -q "VM pod-vm attached: pid $pid (1 in its PID namespace)" "$DIR/serrord.log"

        wait_l2 l2-ns
        console_has l2-ns "L2:READY cpus=2"
        run serrorctl inject --json --vcpu=1 pod-vm uer
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(jq -r '.[0].vcpu' <<<"$output")" = 1 ]
        wait_until 300 console_has l2-ns "SError Interrupt on CPU1, code 0x00000000be000c11" ||
                fail "no SError line from CPU1: $(tail -n 20 "$DIR/l2-ns.console")"

        kill -KILL "$QEMU_PID"
        wait "$QEMU_PID" || true
        gone_within_a_second pod-vm
}

@test "attach --pid: a QEMU started without the preload takes a CE and a UER by ptrace, and runs on untraced after detach" {
        require_qemu_l2
        QEMU_PLAIN=1 start_qemu l2-p 1
        wait_l2 l2-p
        ping_l2 l2-p 1
        ! grep -q serror-preload "$DIR/l2-p.log"

        run env SERROR_ATTACH_SOCKET="$SOCK" "$SERRORCTL" attach --json --pid="$QEMU_PID" --helper-log="$DIR/helper.log"
        assert_success
        [ "$(jq -r .name <<<"$output")" = l2-p ]
        [ "$(jq -r .pid <<<"$output")" = "$QEMU_PID" ]
        [ "$(jq -r .vcpus <<<"$output")" = 1 ]
        helper=$(jq -r .helper_pid <<<"$output")
        QEMU_PIDS="$QEMU_PIDS $helper"
        run serrorctl list --json
        [ "$(jq -r '.[] | select(.name == "l2-p") | .pid' <<<"$output")" = "$QEMU_PID" ]
        [ "$(jq -r '.[] | select(.name == "l2-p") | .uuid' <<<"$output")" = "$UUID" ]
        [ "$(jq -c '.[] | select(.name == "l2-p") | [.vcpus[].index]' <<<"$output")" = "[0]" ]
        grep -q "VM l2-p attached: pid $QEMU_PID (qemu-system-aar) through the ptrace helper pid $helper (serror-attach-p)" \
                "$DIR/serrord.log"
        [ "$(traced_threads "$QEMU_PID")" = 0 ]
        # Started as root, the helper keeps CAP_SYS_PTRACE only, for good.
        [ "$(awk '/^CapEff:/ { print $2 }' "/proc/$helper/status")" = 0000000000080000 ]
        [ "$(awk '/^CapBnd:/ { print $2 }' "/proc/$helper/status")" = 0000000000080000 ]
        [ "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$helper/status")" = 1 ]

        # A CE: written by the vcpu thread under ptrace; the guest keeps running.
        run serrorctl inject --json l2-p ce
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(jq -r '.[0].vcpu' <<<"$output")" = 0 ]
        ping_l2 l2-p 2 || fail "the L2 guest stopped answering after a CE: $(tail -n 20 "$DIR/l2-p.console")"
        ! console_has l2-p "SError Interrupt"
        [ "$(traced_threads "$QEMU_PID")" = 0 ]
        # Three ioctls (read, write, read back), each with the thread stopped.
        [ "$(grep -c "thread stopped" "$DIR/helper.log")" -ge 3 ]

        # Detach ends the helper and leaves QEMU untraced and running.
        run serrorctl detach l2-p
        assert_success
        wait_until 50 process_gone "$helper" || fail "the helper still runs after detach"
        vm_not_listed l2-p
        [ "$(traced_threads "$QEMU_PID")" = 0 ]
        ping_l2 l2-p 3 || fail "the L2 guest stopped answering after detach"
        stopped=$(sed -n 's/.*stopped \([0-9.]*\) ms per ioctl on average, \([0-9.]*\) ms at most.*/\1 ms mean, \2 ms max/p' \
                "$DIR/helper.log")
        [ -n "$stopped" ] || fail "no pause summary: $(cat "$DIR/helper.log")"
        echo "# attach --pid: a vcpu thread stopped $stopped per ioctl (nested emulation)" >&3

        # Attached again: a UER makes the L2 kernel report the exact syndrome.
        run env SERROR_ATTACH_SOCKET="$SOCK" "$SERRORCTL" attach --pid="$QEMU_PID" --name=l2-p-again
        assert_success
        assert_output --partial "Attached VM l2-p-again (pid $QEMU_PID, 1 vcpu) through serror-attach-pid, pid"
        helper=$(sed -n 's/.*through serror-attach-pid, pid \([0-9]*\)\..*/\1/p' <<<"$output")
        QEMU_PIDS="$QEMU_PIDS $helper"
        run serrorctl inject --json l2-p-again uer
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(jq -r '.[0].esr' <<<"$output")" = 0xbe000c11 ]
        wait_until 300 console_has l2-p "SError Interrupt on CPU0, code 0x00000000be000c11 -- SError" ||
                fail "no SError line: $(tail -n 20 "$DIR/l2-p.console")"
        # The guest panics, QEMU (-no-reboot) exits, the helper follows, and serrord forgets the VM.
        wait "$QEMU_PID" || true
        wait_until 50 process_gone "$helper" || fail "the helper outlived its VMM"
        gone_within_a_second l2-p-again
}
