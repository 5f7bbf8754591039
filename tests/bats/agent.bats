#!/usr/bin/env bats
# The test VMM with libserror-agent on this host's /dev/kvm: attach, lifecycle, reconnect, detach (x86's answer to an SError is in mce.bats).

load helpers

VMM="$abs_top_builddir/tests/vmm/serror-test-vmm"

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/a.XXXXXX")
        serror_bus_start "$DIR"
        serror_daemon_start "$DIR"
        SOCK="$DIR/attach.sock"
}

teardown() {
        for pid in ${VMM_PIDS:-}; do kill -TERM "$pid" 2>/dev/null || true; done
        for fd in 4 5 6; do eval "exec $fd>&-" 2>/dev/null || true; done
        serror_daemon_stop "$DIR" || true
        serror_bus_stop "$DIR"
}

serrord_fds() {
        ls "/proc/$SERRORD_PID/fd" | wc -l
}


@test "a VMM attaches its vcpus; list shows them with the VMM's threads and labels" {
        require_vmm
        before=$(serrord_fds)
        start_vmm vm-x86 4 --vcpus=3 --label=role=web --label=zone=a --uuid=6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a
        wait_until 50 vm_vcpus_are vm-x86 "[0,1,2]"
        run serrorctl list --json
        [ "$(jq -r '.[0].pid' <<<"$output")" = "$VMM_PID" ]
        [ "$(jq -r '.[0].uuid' <<<"$output")" = 6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a ]
        [ "$(jq -c '.[0].labels' <<<"$output")" = '{"role":"web","zone":"a"}' ]
        # The tids serrord reports are the VMM's vcpu threads, as the VMM itself says.
        want=$(grep '"event":"ready"' "$DIR/vm-x86.out" | jq -c '[.vcpus[].tid]')
        [ "$(jq -c '[.[0].vcpus[].tid]' <<<"$output")" = "$want" ]
        [ "$(serrord_fds)" -eq $((before + 5)) ]
        run serrorctl detach 6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a
        assert_success
        wait_until 20 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
}

@test "a VMM that quits is detached; a SIGKILLed one too; serrord's fds return to their count" {
        require_vmm
        before=$(serrord_fds)
        start_vmm vm-quit 4 --vcpus=2
        wait_until 50 vm_vcpus_are vm-quit "[0,1]"
        echo quit >&4
        wait_until 20 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
        grep -q "VM vm-quit (pid [0-9]*) detached: the agent said BYE" "$DIR/serrord.log"

        start_vmm vm-kill 5 --vcpus=2
        wait_until 50 vm_vcpus_are vm-kill "[0,1]"
        kill -KILL "$VMM_PID"
        wait_until 10 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
}

@test "two VMMs at once, one in poll mode and one with the agent's own thread" {
        require_vmm
        start_vmm vm-poll 4 --vcpus=2 --agent-mode=poll
        start_vmm vm-thread 5 --vcpus=1 --agent-mode=thread
        wait_until 50 vm_vcpus_are vm-poll "[0,1]"
        wait_until 50 vm_vcpus_are vm-thread "[0]"
        run serrorctl status --json
        [ "$(jq -r .attached_vms <<<"$output")" = 2 ]
        [ "$(jq -r .attached_vcpus <<<"$output")" = 3 ]
}

@test "a restarted serrord sees the VMM again within a second or two, without touching the VMM" {
        require_vmm
        start_vmm vm-restart 4 --vcpus=2
        wait_until 50 vm_vcpus_are vm-restart "[0,1]"
        serror_daemon_stop "$DIR"
        serror_daemon_start "$DIR"
        start=$(now_ms)
        wait_until 50 vm_vcpus_are vm-restart "[0,1]"
        elapsed_ms=$(($(now_ms) - start))
        echo "# re-attached after ${elapsed_ms} ms" >&3
        [ "$elapsed_ms" -lt 5000 ]
        kill -0 "$VMM_PID"
        grep -q '"message":"serrord closes the connection: serrord is stopping' "$DIR/vm-restart.out"
}

@test "an operator's detach is final: the agent does not reconnect" {
        require_vmm
        start_vmm vm-final 4 --vcpus=1
        wait_until 50 vm_vcpus_are vm-final "[0]"
        serrorctl detach vm-final
        wait_until 20 vm_count_is 0
        sleep 2.5
        vm_count_is 0
        kill -0 "$VMM_PID"
        grep -q 'detached by the operator' "$DIR/vm-final.out"
}

@test "a VMM started before serrord attaches once serrord comes up" {
        require_vmm
        serror_daemon_stop "$DIR"
        start_vmm vm-early 4 --vcpus=1
        sleep 1
        serror_daemon_start "$DIR"
        wait_until 50 vm_vcpus_are vm-early "[0]"
}

@test "a wedged agent delays no other VM's injection" {
        require_vmm
        mkfifo "$DIR/wedged.in"
        "$abs_top_builddir/tests/helpers/attach-client" "$SOCK" attach wedged 1 <"$DIR/wedged.in" >"$DIR/wedged.out" 2>&1 3>&- &
        exec 6>"$DIR/wedged.in"
        start_vmm vm-live 4 --vcpus=1
        wait_until 50 vm_vcpus_are wedged "[0]"
        wait_until 50 vm_vcpus_are vm-live "[0]"
        run serrorctl inject --no-wait --timeout=20s wedged uer
        assert_success
        start=$(now_ms)
        run serrorctl inject --json vm-live uer
        elapsed_ms=$(($(now_ms) - start))
        passed_guards "$output"
        [ "$elapsed_ms" -lt 2000 ] || fail "the live VM waited ${elapsed_ms} ms behind the wedged one"
}

@test "a VMM in its own PID namespace (a container's) attaches and is injected" {
        require_vmm
        command -v unshare >/dev/null || skip "unshare is not installed"
        mkfifo "$DIR/vm-ns.in"
        unshare --pid --fork --kill-child "$VMM" --name=vm-ns --attach="$SOCK" --vcpus=2 <"$DIR/vm-ns.in" >"$DIR/vm-ns.out" 2>&1 3>&- &
        VMM_PIDS="${VMM_PIDS:-} $!"
        exec 4>"$DIR/vm-ns.in"
        wait_until 100 vm_vcpus_are vm-ns "[0,1]" || {
                cat "$DIR/vm-ns.out" "$DIR/serrord.log" >&2
                false
        }
        # The VMM says it is pid 1; serrord lists the pid this machine knows it by.
        [ "$(grep '"event":"ready"' "$DIR/vm-ns.out" | jq -r .pid)" = 1 ]
        pid=$(serrorctl list --json | jq -r '.[] | select(.name == "vm-ns") | .pid')
        [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = 1 ]
        run serrorctl inject --json --vcpu=1 vm-ns uer
        passed_guards "$output"
        exec 4>&-
}
