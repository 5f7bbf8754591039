#!/usr/bin/env bats
# serrorctl attach --pid against the test VMM started without its agent: serror-attach-pid finds its vcpus and threads and runs the injections by ptrace (SErrors in the arm64 tier, machine checks in the x86 tier). qemu.bats does the same to Debian's QEMU.

load helpers

VMM="$abs_top_builddir/tests/vmm/serror-test-vmm"

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/a.XXXXXX")
        serror_bus_start "$DIR"
        serror_daemon_start "$DIR"
        SOCK="$DIR/attach.sock"
        PIDS=
}

teardown() {
        for pid in $PIDS; do kill -KILL "$pid" 2>/dev/null || true; done
        for fd in 4 5; do eval "exec $fd>&-" 2>/dev/null || true; done
        serror_daemon_stop "$DIR" || true
        serror_bus_stop "$DIR"
}

# plain_vmm NAME FD [VMM OPTIONS...]: the test VMM with no agent at all (no
# --attach), its stdin held by fd FD; VMM_PID once its vcpus run.
plain_vmm() {
        local name=$1 fd=$2
        shift 2
        mkfifo "$DIR/$name.in"
        "$VMM" --name="$name" "$@" <"$DIR/$name.in" >"$DIR/$name.out" 2>&1 3>&- &
        VMM_PID=$!
        PIDS="$PIDS $VMM_PID"
        eval "exec $fd>\"$DIR/$name.in\""
        wait_until 100 grep -q '"event":"ready"' "$DIR/$name.out" || {
                cat "$DIR/$name.out" >&2
                return 1
        }
}

# attach_pid ARGS...: serrorctl attach --json ARGS against this test's serrord; HELPER_PID on success.
attach_pid() {
        run env SERROR_ATTACH_SOCKET="$SOCK" "$SERRORCTL" attach --json "$@"
        if [ "$status" = 0 ]; then
                HELPER_PID=$(jq -r .helper_pid <<<"$output")
                PIDS="$PIDS $HELPER_PID"
        fi
}

# inject_on_vcpu1 VM OUT: this architecture's error on the VM's vcpu 1, and
# the guest's own report of it in the VMM's output OUT; vcpu 0 took nothing.
inject_on_vcpu1() {
        if [ "$(uname -m)" = aarch64 ]; then
                run serrorctl inject --json --vcpu=1 "$1" uer
                assert_success
                [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
                wait_until 100 grep -q '"event":"serror","vcpu":1,"esr":"0xbe000c11"' "$2" ||
                        fail "vcpu 1 did not take the SError: $(cat "$2")"
        else
                run serrorctl inject --json --vcpu=1 "$1" srao
                assert_success
                [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
                [ "$(jq -r '.[0].written.mci_status' <<<"$output")" = 0xbd000000000000c0 ]
                wait_until 100 grep -q '"event":"mce","vcpu":1,"bank":1,"status":"0xbd000000000000c0"' "$2" ||
                        fail "vcpu 1 did not take the machine check: $(cat "$2")"
        fi
        ! grep -q -e '"event":"serror","vcpu":0' -e '"event":"mce","vcpu":0' "$2"
}

@test "attach --pid: a VMM with no agent is attached with its own threads, takes an error on the vcpu asked for, and runs on untraced after detach" {
        require_vmm
        plain_vmm vm-p 4 --vcpus=2
        ready=$(grep '"event":"ready"' "$DIR/vm-p.out")
        attach_pid --pid="$VMM_PID" --labels=role=plain --helper-log="$DIR/helper.log"
        assert_success
        # The test VMM has no -name: the VM is named PROGRAM-PID.
        [ "$(jq -r .name <<<"$output")" = "serror-test-vmm-$VMM_PID" ]
        [ "$(jq -r .vcpus <<<"$output")" = 2 ]
        vm=serror-test-vmm-$VMM_PID
        run serrorctl list --json
        [ "$(jq -r --arg n "$vm" '.[] | select(.name == $n) | .pid' <<<"$output")" = "$VMM_PID" ]
        [ "$(jq -r --arg n "$vm" '.[] | select(.name == $n) | .labels.role' <<<"$output")" = plain ]
        # The helper found each vcpu's own thread.
        [ "$(jq -c --arg n "$vm" '[.[] | select(.name == $n) | .vcpus[] | {index, tid}]' <<<"$output")" = \
                "$(jq -c '[.vcpus[] | {index, tid}]' <<<"$ready")" ]
        [ "$(traced_threads "$VMM_PID")" = 0 ]

        inject_on_vcpu1 "$vm" "$DIR/vm-p.out"
        [ "$(traced_threads "$VMM_PID")" = 0 ]
        [ "$(grep -c "thread stopped" "$DIR/helper.log")" -ge 3 ]

        run serrorctl detach "$vm"
        assert_success
        wait_until 50 process_gone "$HELPER_PID" || fail "the helper still runs after detach"
        [ "$(traced_threads "$VMM_PID")" = 0 ]
        grep -q "ioctl(s) run in pid $VMM_PID; its vcpu thread was stopped" "$DIR/helper.log"
        # The VMM runs on: it answers, and its vcpus are alive.
        echo status >&4
        wait_until 50 grep -q '"event":"status"' "$DIR/vm-p.out"
        [ "$(grep '"event":"status"' "$DIR/vm-p.out" | jq '[.vcpus[] | select(.dead)] | length')" = 0 ]
}

@test "attach --pid: the helper ends with its VMM, and serrord forgets the VM within a second; a second attach of one VMM is refused" {
        require_vmm
        plain_vmm vm-q 4 --vcpus=1
        attach_pid --pid="$VMM_PID" --name=vm-q
        assert_success
        first=$HELPER_PID

        attach_pid --pid="$VMM_PID" --name=vm-q2
        assert_failure 1
        assert_output --partial "serrorctl: cannot attach pid $VMM_PID: serrord refused the HELLO of VM vm-q2: pid $VMM_PID is already attached as VM vm-q"
        run serrorctl list --json
        [ "$(jq length <<<"$output")" = 1 ]

        kill -KILL "$VMM_PID"
        wait "$VMM_PID" 2>/dev/null || true
        wait_until 50 process_gone "$first" || fail "the helper outlived its VMM"
        wait_until 10 bash -c "! '$SERRORCTL' list --json | jq -e 'length > 0' >/dev/null" ||
                fail "serrord still lists vm-q a second after its helper ended"
}
