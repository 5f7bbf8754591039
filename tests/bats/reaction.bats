#!/usr/bin/env bats
# What the guest did after an injection: taken, and its fate (running, reset, VMM exited), with the test VMM's arm64 guest.

load helpers

VMM="$abs_top_builddir/tests/vmm/serror-test-vmm"

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/r.XXXXXX")
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

# The test guest takes SErrors on arm64 only; an x86 host answers an SError EOPNOTSUPP (mce.bats).
require_arm64_vmm() {
        require_vmm
        [ "$(uname -m)" = aarch64 ] || skip "the test guest takes SErrors on arm64 only (the arm64 tier runs this)"
}

require_x86_vmm() {
        [ "$(uname -m)" = x86_64 ] || skip "x86_64 only: machine checks are x86's (tests/e2e/x86-bats-tier runs it)"
        require_vmm
}

reaction() {
        jq -r ".[0].reaction.$1" <<<"$output"
}

@test "inject --wait-reaction: the guest takes a CE and keeps running" {
        require_arm64_vmm
        start_vmm vm-ce 4 --vcpus=1 --reset-on=uer
        wait_until 50 vm_vcpus_are vm-ce "[0]"
        run serrorctl inject --json --wait-reaction=1s vm-ce ce
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(reaction state)" = done ]
        [ "$(reaction fate)" = running ]
        [ "$(reaction window_usec)" = 1000000 ]
        taken=$(reaction taken_after_usec)
        [[ "$taken" =~ ^[0-9]+$ ]] && ((taken < 1000000)) || fail "taken after '$taken' us"
        [ "$(reaction fate_after_usec)" = 1000000 ]
        # The guest did report it, and is still running.
        grep -q '"event":"serror","vcpu":0,"esr":"0xbe001811"' "$DIR/vm-ce.out" || fail "$(cat "$DIR/vm-ce.out")"
        kill -0 "$VMM_PID"

        # The text says the same; the history keeps it; the counter counts it.
        run serrorctl inject --wait-reaction=200ms vm-ce ce
        assert_success
        assert_output --regexp "  the guest took it after [0-9.]+ (us|ms); the VM kept running for 200 ms"
        run serrorctl history --json
        [ "$(jq -r '[.[] | select(.reaction.fate == "running")] | length' <<<"$output")" = 2 ]
        run serrorctl status --json
        [ "$(jq -r '.counters["fate-running"]' <<<"$output")" = 2 ]
        # Read pending right after the write, but taken since: stop-all does not list it, and
        # it says what the guests did.
        run serrorctl stop-all --json
        [ "$(jq -c .pending <<<"$output")" = "[]" ]
        [ "$(jq -c '[.fates.running, .fates.reset]' <<<"$output")" = "[2,0]" ]
        run serrorctl stop-all
        assert_line "What the guests did after the injections so far: 2 running."
        grep -q "the VM kept running" "$DIR/serrord.log"

        # A dry run put nothing in front of the guest: nothing to watch, no wait.
        run serrorctl inject --json --dry-run --wait-reaction=10min vm-ce uer
        assert_failure 8
        [ "$(reaction state)" = none ]
        [ "$(reaction fate)" = null ]
}

@test "a guest with SErrors masked does not take one in the window; stop-all lists it until the guest does" {
        require_arm64_vmm
        start_vmm vm-mask 4 --vcpus=1
        wait_until 50 vm_vcpus_are vm-mask "[0]"
        echo "mask 0" >&4
        wait_until 50 grep -q '"event":"mask"' "$DIR/vm-mask.out"
        run serrorctl inject --json --wait-reaction=300ms vm-mask ce
        assert_success
        [ "$(reaction fate)" = running ]
        [ "$(reaction taken_after_usec)" = null ]
        [ "$(reaction text)" = "the guest did not take it within 300 ms; the VM kept running" ]
        run serrorctl stop-all --json
        [ "$(jq -c '[.pending[] | [.vm, .vcpu, .esr]]' <<<"$output")" = '[["vm-mask",0,"0xbe001811"]]' ] || fail "$output"
        # Unmasked, the guest takes it; the agent still watches, and the history learns it.
        echo "unmask 0" >&4
        wait_until 50 grep -q '"event":"serror"' "$DIR/vm-mask.out"
        wait_until 50 bash -c "\"$SERRORCTL\" history --json | jq -e '.[0].reaction.taken_after_usec > 300000' >/dev/null"
        run serrorctl stop-all --json
        [ "$(jq -c .pending <<<"$output")" = "[]" ]
}

@test "a VMM that does not call before_run: the agent says it cannot see taking, and nobody claims it was not taken" {
        require_arm64_vmm
        start_vmm vm-worker 4 --vcpus=1 --no-pre-run
        wait_until 50 vm_vcpus_are vm-worker "[0]"
        # Masked, so that the read after the write always finds it pending.
        echo "mask 0" >&4
        wait_until 50 grep -q '"event":"mask"' "$DIR/vm-worker.out"
        run serrorctl inject --json --wait-reaction=300ms vm-worker ce
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        [ "$(reaction taken_watched)" = false ]
        [ "$(reaction taken_after_usec)" = null ]
        [ "$(reaction fate)" = running ]
        [ "$(reaction text)" = "the VM kept running for 300 ms" ]
}

@test "x86: a machine check on a guest with CR4.MCE clear gives fate triple-fault" {
        require_x86_vmm
        start_vmm vm-tf 4 --vcpus=1 --no-cr4-mce
        wait_until 100 vm_vcpus_are vm-tf "[0]"
        run serrorctl inject --json --wait-reaction=5s vm-tf srao
        assert_success
        [ "$(reaction fate)" = triple-fault ] || fail "$output"
        [ "$(reaction taken_watched)" = false ]
        [[ "$(reaction text)" =~ ^the\ vcpu\ triple-faulted\ [0-9.]+\ (us|ms|s)\ after\ the\ request$ ]] || fail "$output"
        ((  $(reaction fate_after_usec) < 5000000 ))
}

@test "a UER on a guest that resets on SError gives fate reset, timed" {
        require_arm64_vmm
        start_vmm vm-reset 4 --vcpus=1 --reset-on=uer
        wait_until 50 vm_vcpus_are vm-reset "[0]"
        run serrorctl inject --json --wait-reaction=10s vm-reset uer
        assert_success
        [ "$(reaction fate)" = reset ] || fail "$output"
        taken=$(reaction taken_after_usec)
        after=$(reaction fate_after_usec)
        [[ "$taken" =~ ^[0-9]+$ ]] || fail "not seen taken: $output"
        ((after < 10000000)) || fail "the reset came after the window: $after us"
        assert_output --partial '"text":"the guest took it after'
        assert_output --partial 'the VM reset'
        # The VMM saw the same PSCI reset and ended as a VMM does then.
        wait_until 50 grep -q '"event":"exit","reason":"system-event"' "$DIR/vm-reset.out"
        grep -q '"event":"system-event","vcpu":0,"type":"reset"' "$DIR/vm-reset.out"
        run serrorctl history --json
        [ "$(jq -r '.[-1].reaction.fate' <<<"$output")" = reset ]
}

@test "the VMM killed after an injection gives fate vmm-exited" {
        require_arm64_vmm
        start_vmm vm-kill 4 --vcpus=1
        wait_until 50 vm_vcpus_are vm-kill "[0]"
        "$SERRORCTL" inject --json --wait-reaction=20s vm-kill ce >"$DIR/inject.json" 3>&- 4>&- &
        inject_pid=$!
        # The outcome is in (and the window open) before the VMM dies.
        wait_until 50 bash -c "\"$SERRORCTL\" history --json | jq -e '.[0].reaction.state == \"watching\"' >/dev/null"
        kill -KILL "$VMM_PID"
        wait "$inject_pid"
        output=$(cat "$DIR/inject.json")
        [ "$(reaction fate)" = vmm-exited ] || fail "$output"
        ((  $(reaction fate_after_usec) < 20000000 ))
        wait_until 30 vm_count_is 0
}

@test "a VMM that detaches during the window gives fate detached; monitor prints the reaction" {
        require_arm64_vmm
        start_vmm vm-det 4 --vcpus=1
        wait_until 50 vm_vcpus_are vm-det "[0]"
        "$SERRORCTL" monitor --json >"$DIR/monitor.json" 3>&- 4>&- &
        monitor_pid=$!
        wait_until 50 bash -c '[ "$(busctl --system get-property org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager Subscribers)" = "u 1" ]'
        run serrorctl inject --json --no-wait vm-det ce
        assert_success
        wait_until 50 bash -c "\"$SERRORCTL\" history --json | jq -e '.[0].reaction.state == \"watching\"' >/dev/null"
        run serrorctl detach vm-det
        assert_success
        wait_until 50 bash -c "\"$SERRORCTL\" history --json | jq -e '.[0].reaction.fate == \"detached\"' >/dev/null"
        wait_until 50 bash -c "jq -s -e 'map(select(.reaction.state == \"done\")) | length == 1' '$DIR/monitor.json' >/dev/null"
        kill -TERM "$monitor_pid"
        wait "$monitor_pid"
        # One line for the outcome (window open), one when the reaction ended.
        [ "$(jq -s -r 'map(.reaction.state) | join(",")' "$DIR/monitor.json")" = "watching,done" ]
}

@test "a campaign with stop_when halts after two VMs reset; the rest of its plan is not sent" {
        require_arm64_vmm
        for n in 1 2 3; do
                start_vmm "vm-c$n" $((n + 3)) --vcpus=1 --reset-on=uer --label=env=chaos
        done
        for n in 1 2 3; do wait_until 50 vm_vcpus_are "vm-c$n" "[0]"; done
        cat >"$DIR/halting.json" <<'JSON'
{
  "name": "halting",
  "targets": { "labels": { "env": "chaos" } },
  "error": "uer",
  "schedule": { "type": "interval", "period": "600ms" },
  "max_injections": 10,
  "stop_when": { "fates": ["reset"], "vms": 2 },
  "seed": 5
}
JSON
        run serrorctl policy load "$DIR/halting.json"
        assert_success
        run serrorctl policy start halting
        assert_success
        wait_until 100 bash -c "[ \"\$(\"$SERRORCTL\" policy list --json | jq -r '.[0].state')\" = halted ]"
        run serrorctl policy show halting
        assert_success
        assert_line --index 0 "Policy halting: halted"
        assert_line --index 1 --regexp "^    Halted: 2 VMs had reset, the last vm-c[123] \(reset\); stop_when vms 2$"
        # Nothing more goes out once it halted: two injections, two VMs reset, the third untouched.
        sleep 1.5
        run serrorctl policy show --json halting
        [ "$(jq -r .sent <<<"$output")" = 2 ] || fail "$output"
        [ "$(jq -r .stop_reason <<<"$output")" != null ]
        run serrorctl history --json
        [ "$(jq '[.[] | select(.origin == "halting")] | length' <<<"$output")" = 2 ]
        [ "$(jq '[.[] | select(.origin == "halting" and .reaction.fate == "reset")] | length' <<<"$output")" = 2 ]
        [ "$(cat "$DIR"/vm-c*.out | grep -c '"event":"system-event","vcpu":0,"type":"reset"')" = 2 ]
        [ "$(cat "$DIR"/vm-c*.out | grep -c '"event":"serror"')" = 2 ]
        vm_count_is 1
        grep -q "Policy halting halted by its stop condition: 2 VMs had reset" "$DIR/serrord.log"
}

@test "--wait-reaction takes 10ms to 10min, and not with --no-wait; Inject checks the window" {
        run serrorctl inject --wait-reaction=5ms vm uer
        assert_failure 2
        assert_output "serrorctl: invalid --wait-reaction '5ms': expected a duration from 10ms to 10min, such as 500ms or 30s"
        run serrorctl inject --wait-reaction=11min vm uer
        assert_failure 2
        run serrorctl inject --no-wait --wait-reaction vm uer
        assert_failure 2
        assert_output "serrorctl: --no-wait and --wait-reaction contradict each other"
        run busctl --system call org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager Inject ssssttt \
                vm 0 uer merge 1000000 0 5000
        assert_failure
        assert_output --partial "Invalid reaction window 5000 us: expected 10 ms to 10 min"
}
