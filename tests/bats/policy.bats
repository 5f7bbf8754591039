#!/usr/bin/env bats
# Policies run by serrord on this host: lifecycle, determinism against the offline plan, reload atomicity,
# targets that attach later, guards, stop-all and an idle daemon. (On x86_64 every injection ends failed
# with EOPNOTSUPP, on arm64 injected: what is checked here is what serrord decided to send, when, and where.)

load helpers

VMM="$abs_top_builddir/tests/vmm/serror-test-vmm"

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/p.XXXXXX")
        mkdir "$DIR/policies.d"
        printf '[Policies]\nDirectory=%s\n' "$DIR/policies.d" >"$DIR/serrord.conf"
        serror_bus_start "$DIR"
        SOCK="$DIR/attach.sock"
}

teardown() {
        for pid in ${VMM_PIDS:-}; do kill -TERM "$pid" 2>/dev/null || true; done
        for fd in 4 5; do eval "exec $fd>&-" 2>/dev/null || true; done
        serror_daemon_stop "$DIR" || true
        serror_bus_stop "$DIR"
}

vm_has_vcpus() {
        [ "$(serrorctl list --json | jq "[.[] | select(.name == \"$1\") | .vcpus[]] | length")" = "$2" ]
}

policy_state_is() {
        [ "$(serrorctl policy list --json | jq -r ".[] | select(.name == \"$1\") | .state")" = "$2" ]
}

write_policy() {
        cat >"$1" <<JSON
{
  "name": "$2",
  "targets": { "globs": ["vm-*"], "vcpus": "all" },
  "error": { "mix": [ { "syndrome": "ce", "weight": 3 }, { "syndrome": "uer", "weight": 1 } ] },
  "schedule": { "type": "interval", "period": "${3:-150ms}", "jitter": "${6:-40ms}" },
  "max_injections": ${4:-10},
  "seed": ${5:-7}
}
JSON
}

@test "load, start, finish, show, unload: serrord injects exactly the plan's sequence" {
        require_vmm
        serror_daemon_start "$DIR"
        start_vmm vm-a 4 --vcpus=3
        wait_until 50 vm_has_vcpus vm-a 3
        write_policy "$DIR/p.json" seq-test 100ms 12 99
        run serrorctl policy load "$DIR/p.json"
        assert_success
        assert_output --partial "Loaded policy seq-test (seed 99)"
        policy_state_is seq-test loaded
        run serrorctl policy start seq-test
        assert_output "Started policy seq-test with seed 99."
        wait_until 80 policy_state_is seq-test finished
        run serrorctl history --json
        got=$(jq -c '[.[] | select(.origin == "seq-test") | [.vm, .vcpu, .syndrome]]' <<<"$output")
        run serrorctl policy plan --json --vm=vm-a:3 "$DIR/p.json"
        assert_success
        want=$(jq -c '[.injections[] | [.vm, .vcpu, .syndrome]]' <<<"$output")
        [ "$got" = "$want" ] || fail "serrord injected $got, the plan says $want"
        [ "$(jq length <<<"$got")" = 12 ]
        run serrorctl policy show seq-test
        assert_line --index 0 "Policy seq-test: finished"
        assert_line --regexp '^ +Seed: 99$'
        assert_line --regexp '^ +Injected: 12 sent, 0 refused by guards'
        run serrorctl policy unload seq-test
        assert_success
        run serrorctl policy show seq-test
        assert_failure 4
        assert_output "serrorctl: No policy named 'seq-test' is loaded."
}

@test "a policy without a seed gets one, shown and logged, so the run can be repeated" {
        serror_daemon_start "$DIR"
        jq 'del(.seed)' <(write_policy /dev/stdout noseed) >"$DIR/noseed.json"
        run serrorctl policy load "$DIR/noseed.json"
        assert_success
        seed=$(serrorctl policy list --json | jq -r '.[0].seed')
        [ "$(serrorctl policy list --json | jq -r '.[0].seed_generated')" = true ]
        grep -q "Policy noseed loaded from .* (seed $seed, generated)" "$DIR/serrord.log"
        run serrorctl policy show noseed
        assert_line --regexp "^ +Seed: $seed \\(generated"
}

@test "VMs that attach later join a running policy" {
        require_vmm
        serror_daemon_start "$DIR"
        write_policy "$DIR/p.json" late-join 100ms 1000
        serrorctl policy load "$DIR/p.json"
        serrorctl policy start late-join
        sleep 0.5
        [ "$(serrorctl history --json | jq '[.[] | select(.origin == "late-join")] | length')" = 0 ]
        start_vmm vm-late 4 --vcpus=2
        wait_until 50 vm_has_vcpus vm-late 2
        wait_until 50 bash -c "[ \$('$SERRORCTL' history --json | jq '[.[] | select(.origin == \"late-join\" and .vm == \"vm-late\")] | length') -ge 3 ]"
        [ "$(serrorctl policy list --json | jq -r '.[0].state')" = running ]
}

@test "the policy directory is loaded at start; a reload with one bad file changes nothing" {
        write_policy "$DIR/policies.d/good.json" from-dir 10s 1000
        serror_daemon_start "$DIR"
        policy_state_is from-dir running
        started=$(serrorctl policy list --json | jq -r '.[0].started_timestamp_usec')

        printf '{ "name": "broken", "targets": {}, "error": "uer", "schedule": { "type": "poisson", "rate": -1 } }\n' \
                >"$DIR/policies.d/bad.json"
        write_policy "$DIR/policies.d/good.json" from-dir 5s 1000
        run serrorctl policy reload
        assert_failure 2
        assert_output --partial "Reload refused, the running policies stay as they were"
        assert_output --partial "bad.json"
        assert_output --partial ".schedule.rate"
        # SIGHUP is refused the same way, and logged.
        kill -HUP "$SERRORD_PID"
        wait_until 30 grep -q "Refused to reload $DIR/policies.d" "$DIR/serrord.log"
        [ "$(serrorctl policy list --json | jq -r '[.[].name] | join(",")')" = from-dir ]
        [ "$(serrorctl policy list --json | jq -r '.[0].started_timestamp_usec')" = "$started" ]
        policy_state_is from-dir running

        rm "$DIR/policies.d/bad.json"
        run serrorctl policy reload
        assert_success
        # The changed file replaced the running one.
        [ "$(serrorctl policy show --json from-dir | jq -r .policy.schedule.period)" = 5s ]
        kill -0 "$SERRORD_PID"
}

@test "guards: the severity cap and the minimum gap refuse with a clear error" {
        require_vmm
        printf '[Policies]\nDirectory=%s\n[Guards]\nMaxSeverity=ueo\nMinGap=1h\n' "$DIR/policies.d" >"$DIR/serrord.conf"
        serror_daemon_start "$DIR"
        start_vmm vm-g 4 --vcpus=2
        wait_until 50 vm_has_vcpus vm-g 2
        run serrorctl inject vm-g uer
        assert_failure 5
        assert_output "serrorctl: Refused by the severity cap ([Guards] MaxSeverity=): vcpu 0 of vm-g."
        run serrorctl inject --json vm-g ce
        passed_guards "$output"
        run serrorctl inject vm-g ce
        assert_failure 5
        assert_output --partial "serrorctl: Refused by the minimum gap between SErrors to one vcpu ([Guards] MinGap=)"
        # Another vcpu: no gap to keep.
        run serrorctl inject --vcpu=1 --json vm-g ce
        passed_guards "$output"
}

@test "guards: the rate limit holds a fast policy back, and the refusals are counted" {
        require_vmm
        printf '[Policies]\nDirectory=%s\n[Guards]\nRateLimit=2\nRateBurst=1\n' "$DIR/policies.d" >"$DIR/serrord.conf"
        serror_daemon_start "$DIR"
        start_vmm vm-r 4 --vcpus=1
        wait_until 50 vm_has_vcpus vm-r 1
        write_policy "$DIR/p.json" too-fast 10ms 100 7 1ms
        serrorctl policy load "$DIR/p.json"
        serrorctl policy start too-fast
        wait_until 100 policy_state_is too-fast finished
        run serrorctl policy list --json
        sent=$(jq -r '.[0].sent' <<<"$output")
        refused=$(jq -r '.[0].refused' <<<"$output")
        [ $((sent + refused)) -eq 100 ]
        # 100 events in about a second at 2/s with a burst of 1: a handful pass.
        [ "$sent" -ge 1 ] && [ "$sent" -le 10 ] || fail "sent $sent of 100 under a 2/s limit"
}

@test "stop-all stops every running policy at once" {
        serror_daemon_start "$DIR"
        write_policy "$DIR/a.json" run-a 1s 1000
        write_policy "$DIR/b.json" run-b 1s 1000
        for p in a b; do
                serrorctl policy load "$DIR/$p.json"
                serrorctl policy start "run-$p"
        done
        run serrorctl stop-all
        assert_success
        assert_line --index 0 "Stopped 2 running policies."
        policy_state_is run-a stopped
        policy_state_is run-b stopped
        run serrorctl stop-all --json
        [ "$(jq -r .stopped <<<"$output")" = 0 ]
        [ "$(jq -c .pending <<<"$output")" = "[]" ]
}

@test "an idle serrord with a far-off policy makes no wake-ups" {
        serror_daemon_start "$DIR"
        cat >"$DIR/later.json" <<'JSON'
{ "name": "later", "targets": { "names": ["nobody"] }, "error": "ce", "schedule": { "type": "once", "after": "1h" } }
JSON
        serrorctl policy load "$DIR/later.json"
        serrorctl policy start later
        sleep 0.5
        before=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/$SERRORD_PID/status")
        sleep 3
        after=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/$SERRORD_PID/status")
        [ "$after" -eq "$before" ] || fail "serrord woke up $((after - before)) times in 3 idle seconds"
}

@test "policy verbs need serrord, and name what is wrong" {
        run serrorctl policy start nothing
        assert_failure 3
        serror_daemon_start "$DIR"
        run serrorctl policy start nothing
        assert_failure 4
        run serrorctl policy load "$DIR/missing.json"
        assert_failure 1
        assert_output --partial "cannot read $DIR/missing.json"
        printf '{"name": "x"}' >"$DIR/incomplete.json"
        run serrorctl policy load "$DIR/incomplete.json"
        assert_failure 2
        assert_output --partial "Invalid policy"
        write_policy "$DIR/p.json" twice
        serrorctl policy load "$DIR/p.json"
        run serrorctl policy load "$DIR/p.json"
        assert_failure 2
        assert_output --partial "already loaded"
}

@test "every user may list and show policies; only root and the control group may change them" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
        serror_daemon_start "$DIR"
        write_policy "$DIR/p.json" twice
        serrorctl policy load "$DIR/p.json"
        run nobody "$SERRORCTL" policy list --json
        assert_success
        [ "$(jq -r '.[0].name' <<<"$output")" = twice ]
        run nobody "$SERRORCTL" policy show twice
        assert_success
        assert_output --partial twice
        run nobody "$SERRORCTL" policy stop twice
        assert_failure 5
}

@test "a FIFO in the policy directory, or a symlink to one, is refused by name; serrord never blocks on it" {
        mkfifo "$DIR/policies.d/fifo.json"
        ln -s "$DIR/policies.d/fifo.json" "$DIR/policies.d/link.json"
        # At start: the directory is read, the FIFO refused, serrord answers.
        serror_daemon_start "$DIR"
        grep -q "fifo.json: not a regular file" "$DIR/serrord.log"
        run timeout 10 "$SERRORCTL" policy reload
        assert_failure 2
        assert_output --partial "fifo.json: not a regular file"
        assert_output --partial "link.json: not a regular file"
        run timeout 10 "$SERRORCTL" status
        assert_success
        kill -HUP "$SERRORD_PID"
        run timeout 10 "$SERRORCTL" status
        assert_success
        serror_daemon_stop "$DIR"
}

@test "bus callers' strings are bounded, and quoted back cut and escaped" {
        serror_daemon_start "$DIR"
        rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERRORD_PID/status"; }
        before=$(rss)
        big=$(head -c 100000 /dev/zero | tr '\0' 'x')
        write_policy "$DIR/p.json" bounded
        run busctl --system call org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager LoadPolicy ssb \
                "$(cat "$DIR/p.json")" "$big" false
        assert_failure
        assert_output --partial "The policy source is longer than 256 bytes"
        (( ${#output} < 400 )) || fail "the error quotes ${#output} bytes back"
        run busctl --system call org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager Inject ssssttt \
                "$big" all uer merge 1000000 0 0
        assert_failure
        assert_output --partial "The VM is longer than 256 bytes"
        (( ${#output} < 400 )) || fail "the error quotes ${#output} bytes back"
        run serrorctl inject "vm-$(head -c 200 /dev/zero | tr '\0' 'y')" uer
        assert_failure 4
        (( ${#output} < 300 )) || fail "the error quotes ${#output} bytes back"
        assert_output --partial "yyy...'"
        # A source with a terminal escape is kept escaped: everyone may read it back.
        run busctl --system call org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager LoadPolicy ssb \
                "$(cat "$DIR/p.json")" $'evil\e[31m' false
        assert_success
        run serrorctl policy list --json
        [ "$(jq -r '.[] | select(.name == "bounded") | .source' <<<"$output")" = 'evil\x1b[31m' ]
        (( $(rss) - before < 4096 )) || fail "serrord grew from $before to $(rss) KiB"
}

@test "guards judge an inject --vcpu=all as a whole: every vcpu gets one, or the call is refused with the reason" {
        require_vmm
        printf '[Policies]\nDirectory=%s\n[Guards]\nRateLimit=0.1\nRateBurst=2\n' "$DIR/policies.d" >"$DIR/serrord.conf"
        serror_daemon_start "$DIR"
        start_vmm vm-three 4 --vcpus=3
        start_vmm vm-two 5 --vcpus=2
        wait_until 50 vm_has_vcpus vm-three 3
        wait_until 50 vm_has_vcpus vm-two 2
        run serrorctl inject --vcpu=all --json vm-three ce
        assert_failure 5
        assert_output --partial "Refused by the daemon-wide rate limit ([Guards] RateLimit=): 3 vcpus of vm-three at once; no vcpu of the call was sent one."
        [ "$(serrorctl history --json --vm=vm-three | jq length)" = 0 ]
        # Two fit in the burst: both vcpus get their outcome.
        run serrorctl inject --vcpu=all --json vm-two ce
        [ "$(jq length <<<"$output")" = 2 ]
        [ "$(jq -c '[.[].vcpu] | sort' <<<"$output")" = "[0,1]" ]
        passed_guards "$(jq -c '[.[0]]' <<<"$output")"
        passed_guards "$(jq -c '[.[1]]' <<<"$output")"
}
