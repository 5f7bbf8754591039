#!/usr/bin/env bats
# Injection requests on this host: usage errors, a wedged agent, the per-vcpu bound, history, monitor, access.
# The real injection path into arm64 guests is tested by the arm64 tier (tests/e2e).

load helpers

CLIENT="$abs_top_builddir/tests/helpers/attach-client"

setup_file() {
        # "users" (gid 100 on Debian) stands in for an operators' group: serrord's [Control] and a
        # bus policy drop-in, as serrord(8) tells an administrator to write.
        printf '[History]\nSize=50\n[Control]\nAllowGroups=users\n' >"$BATS_FILE_TMPDIR/serrord.conf"
        mkdir -p "$BATS_FILE_TMPDIR/system.d"
        cat >"$BATS_FILE_TMPDIR/system.d/operators.conf" <<'EOF'
<busconfig>
  <policy group="users">
    <allow send_destination="org.serror.serror1"/>
  </policy>
  <!-- Lets the bus pass nobody's calls, so that serrord's own check is what refuses them. -->
  <policy group="nogroup">
    <allow send_destination="org.serror.serror1"/>
  </policy>
</busconfig>
EOF
        serror_shared_setup_file
}

teardown_file() {
        serror_shared_teardown_file
}

setup() {
        serror_shared_setup
}

teardown() {
        for fd in 4 5; do eval "exec $fd>&-" 2>/dev/null || true; done
        wait_until 30 vm_count_is 0 || true
}


# A client that attaches N vcpus and never answers an INJECT: a wedged agent.
hold_wedged() {
        local name=$1 n=$2 fd=$3
        mkfifo "$BATS_TEST_TMPDIR/$name.in"
        "$CLIENT" "$SOCK" attach "$name" "$n" <"$BATS_TEST_TMPDIR/$name.in" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 3>&- &
        eval "exec $fd>\"$BATS_TEST_TMPDIR/$name.in\""
        wait_until 50 bash -c "[ \$(grep -c ' 0 OK ' '$BATS_TEST_TMPDIR/$name.out') -ge $((n + 1)) ]"
}

@test "inject usage errors exit 2 or 4 and name the problem" {
        run serrorctl inject
        assert_failure 2
        assert_output "serrorctl: 'inject' needs VM SYNDROME (see serrorctl inject --help)"
        run serrorctl inject vm aet=bogus
        assert_failure 2
        assert_output --partial "invalid syndrome 'aet=bogus': AET"
        run serrorctl inject --on-pending=later vm uer
        assert_failure 2
        assert_output "serrorctl: invalid --on-pending 'later': expected merge, defer or skip"
        run serrorctl inject --timeout=forever vm uer
        assert_failure 2
        assert_output --partial "invalid --timeout 'forever'"
        run serrorctl inject --vcpu
        assert_failure 2
        assert_output "serrorctl: option '--vcpu' needs a value"
        run serrorctl inject --vcpu=x vm uer
        assert_failure 2
        run serrorctl inject no-such-vm uer
        assert_failure 4
        assert_output "serrorctl: No VM named or with UUID 'no-such-vm' is attached."
}

@test "inject into a vcpu the VM does not have exits 4 and names it" {
        hold_wedged vm-usage "$(have_kvm && echo 1 || echo 0)" 4
        run serrorctl inject --vcpu=5 vm-usage uer
        assert_failure 4
        assert_output "serrorctl: VM vm-usage has no vcpu 5 attached."
}

@test "a wedged agent: the injection fails with ETIMEDOUT, is recorded once, counted and logged" {
        require_kvm
        hold_wedged vm-wedged 1 4
        before=$(serrorctl status --json | jq '.counters["outcome-failed"]')
        run serrorctl inject --timeout=100ms --json vm-wedged uer
        assert_failure 1
        [ "$(jq -r '.[0].outcome' <<<"$output")" = failed ]
        [ "$(jq -r '.[0].error' <<<"$output")" = ETIMEDOUT ]
        [ "$(jq -r '.[0].esr' <<<"$output")" = 0xbe000c11 ]
        id=$(jq -r '.[0].id' <<<"$output")
        grep -q "INJECT $id (not answered)" "$BATS_TEST_TMPDIR/vm-wedged.out"
        run serrorctl history --json --vm=vm-wedged
        [ "$(jq "[.[] | select(.id == $id)] | length" <<<"$output")" = 1 ]
        after=$(serrorctl status --json | jq '.counters["outcome-failed"]')
        [ "$after" -eq $((before + 1)) ]
        grep -q "Injection $id of uer into vm-wedged vcpu 0: failed .*SERROR_OUTCOME=failed.*ERRNO=110" "$BATS_FILE_TMPDIR/serrord.log"
}

@test "a wedged vcpu holds at most 16 requests; more are refused, not queued" {
        require_kvm
        hold_wedged vm-busy 1 4
        for i in $(seq 16); do
                run serrorctl inject --no-wait --timeout=30s vm-busy ce
                assert_success
        done
        run serrorctl inject --no-wait --timeout=30s vm-busy ce
        assert_failure 1
        assert_output --partial "vcpu 0 of vm-busy already has 16 injections in flight."
        # Detaching the VM ends every open request with one outcome each.
        serrorctl detach vm-busy
        wait_until 20 vm_count_is 0
        run serrorctl history --json --vm=vm-busy
        [ "$(jq '[.[] | select(.error == "ECONNRESET")] | length' <<<"$output")" = 16 ]
}

@test "an agent that stopped reading: every vcpu of an --vcpu=all call gets an outcome, even when serrord's queue fills mid-call" {
        require_kvm
        local n=100 calls=0 last=""
        mkfifo "$BATS_TEST_TMPDIR/deaf.in"
        # Attaches n real vcpus, then never reads: the INJECTs fill the socket, then serrord's
        # queue of 64 records. With more vcpus than that queue holds, some call is cut where
        # it fills, unless it fills exactly at the end of a call.
        "$CLIENT" "$SOCK" hello-no-read vm-deaf "$n" 0 <"$BATS_TEST_TMPDIR/deaf.in" >"$BATS_TEST_TMPDIR/deaf.out" 2>&1 3>&- &
        exec 4>"$BATS_TEST_TMPDIR/deaf.in"
        if ! wait_until 150 grep -q holding "$BATS_TEST_TMPDIR/deaf.out"; then
                grep -q KVM_CREATE_VCPU "$BATS_TEST_TMPDIR/deaf.out" && skip "this host's KVM cannot make $n vcpus in one VM"
                fail "the client did not attach: $(cat "$BATS_TEST_TMPDIR/deaf.out")"
        fi
        while :; do
                # Each call leaves one request open per vcpu it reached: 16 calls reach the per-vcpu bound.
                ((calls < 16)) || skip "serrord's socket to the agent holds more than $((16 * n)) records here"
                run serrorctl inject --no-wait --json --timeout=1h --vcpu=all vm-deaf ce
                [ "$status" -eq 0 ] || break
                calls=$((calls + 1))
                [ "$(jq 'unique | length' <<<"$output")" -eq "$n" ] ||
                        fail "call $calls answered for $(jq 'unique | length' <<<"$output") of $n vcpus: $output"
                last=$output
        done
        # Full: nothing of this call went out, so it fails as a whole, saying why.
        assert_failure 1
        assert_output "serrorctl: Failed to inject: Failed to send the request to vm-deaf: No buffer space available"
        run serrorctl history --json --vm=vm-deaf
        unsent=$(jq -c '[.[] | select(.error == "ENOBUFS")]' <<<"$output")
        [ "$(jq length <<<"$unsent")" -gt 0 ] ||
                skip "serrord's queue filled exactly at the end of a call here: no call was cut"
        # The vcpus a cut call could not reach have their own outcome, under the ids it answered with.
        [ "$(jq -r '[.[] | .outcome + ": " + .message] | unique | .[]' <<<"$unsent")" = \
                "failed: serrord could not send the request to the agent" ]
        [ "$(jq -n --argjson ids "$last" --argjson unsent "$unsent" '[$unsent[].id] - $ids | length')" = 0 ]
}

@test "inject --no-wait returns the request id at once; monitor prints the outcome" {
        require_kvm
        hold_wedged vm-monitor 1 4
        "$SERRORCTL" monitor --json >"$BATS_TEST_TMPDIR/monitor.out" 2>&1 3>&- &
        monitor=$!
        wait_until 50 subscribers_are 1
        run serrorctl inject --no-wait --json --timeout=100ms vm-monitor ueo
        assert_success
        id=$(jq -r '.[0]' <<<"$output")
        [ "$id" -gt 0 ]
        wait_until 50 grep -q "\"id\":$id," "$BATS_TEST_TMPDIR/monitor.out"
        kill -INT "$monitor"
        status=0
        wait "$monitor" || status=$?
        assert_equal "$status" 0
        run jq -r 'select(.id == '"$id"') | .outcome + " " + .syndrome + " " + .vm' "$BATS_TEST_TMPDIR/monitor.out"
        assert_output "failed ueo vm-monitor"
}

# How many clients serrord sends InjectionDone to.
subscribers_are() {
        [ "$(busctl --system get-property org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager Subscribers)" = "u $1" ]
}

bus_seen() {
        grep -c -- "$1" "$BATS_TEST_TMPDIR/bus.log" || true
}

# inject_and_count VM: one injection that ends at its deadline (the agent is wedged), then how
# many InjectionDone signals the bus has carried so far. serrord sends the signal before it
# answers GetHistory, and the bus daemon routes messages in the order it reads them: once the
# monitor has printed a signal emitted after the outcome was in the history, it has printed
# every InjectionDone that went out.
inject_and_count() {
        local id sentinels
        id=$(serrorctl inject --no-wait --json --timeout=1ms "$1" ce | jq -r '.[0]')
        wait_until 100 bash -c "\"$SERRORCTL\" history --json | jq -e 'any(.[]; .id == $id)' >/dev/null" || return 1
        sentinels=$(bus_seen 'member=Sentinel')
        busctl --system emit /org/serror/test org.serror.Test Sentinel
        wait_until 50 bash -c "[ \$(grep -c -- member=Sentinel '$BATS_TEST_TMPDIR/bus.log') -gt $sentinels ]" || return 1
        bus_seen 'member=InjectionDone'
}

@test "InjectionDone goes only to subscribers, and stops when the last one goes" {
        require_kvm
        hold_wedged vm-sub 1 4
        # Sees every InjectionDone on the bus, without subscribing.
        dbus-monitor --system "type='signal',interface='org.serror.serror1.Manager',member='InjectionDone'" \
                "type='signal',interface='org.serror.Test'" \
                >"$BATS_TEST_TMPDIR/bus.log" 2>&1 3>&- 4>&- &
        bus_monitor=$!
        until [ -s "$BATS_TEST_TMPDIR/bus.log" ]; do sleep 0.1; done
        subscribers_are 0
        n=$(inject_and_count vm-sub)
        assert_equal "$n" 0

        "$SERRORCTL" monitor --json >"$BATS_TEST_TMPDIR/monitor.out" 2>&1 3>&- 4>&- &
        monitor=$!
        wait_until 50 subscribers_are 1
        n=$(inject_and_count vm-sub)
        assert_equal "$n" 1
        wait_until 50 grep -q '"vm":"vm-sub"' "$BATS_TEST_TMPDIR/monitor.out"

        # SIGKILL: no Unsubscribe call; serrord notices the connection go.
        kill -KILL "$monitor"
        wait "$monitor" || true
        wait_until 50 subscribers_are 0
        n=$(inject_and_count vm-sub)
        assert_equal "$n" 1
        kill "$bus_monitor"
}

@test "Subscribe and Unsubscribe are open to every user and idempotent" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        run setpriv --reuid=65534 --regid=65534 --clear-groups busctl --system call org.serror.serror1 \
                /org/serror/serror1 org.serror.serror1.Manager Subscribe
        assert_success
        run busctl --system call org.serror.serror1 /org/serror/serror1 org.serror.serror1.Manager Unsubscribe
        assert_success
        # Each busctl call is its own connection: nothing stays subscribed.
        wait_until 50 subscribers_are 0
}

@test "monitor without serrord says so and exits 3" {
        DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BATS_TEST_TMPDIR/nothing" run serrorctl monitor
        assert_failure 3
}

@test "monitor whose output cannot be written exits 1 and says why, instead of watching forever" {
        # The table's header is the first write.
        run bash -c 'timeout 10 "$0" monitor >/dev/full' "$SERRORCTL"
        assert_failure 1
        assert_output "serrorctl: write error on standard output: No space left on device"
        run bash -c 'timeout 10 "$0" monitor >&-' "$SERRORCTL"
        assert_failure 1
        assert_output "serrorctl: write error on standard output: Bad file descriptor"
        wait_until 50 subscribers_are 0
}

@test "monitor --json stops at the first outcome it cannot write" {
        require_kvm
        hold_wedged vm-full 1 4
        # JSON has no header: nothing is written until an outcome comes. timeout(1) turns a
        # monitor that would watch forever into exit status 124.
        timeout 20 "$SERRORCTL" monitor --json >/dev/full 2>"$BATS_TEST_TMPDIR/monitor.err" 3>&- 4>&- &
        monitor=$!
        wait_until 50 subscribers_are 1
        run serrorctl inject --no-wait --timeout=1ms vm-full ce
        assert_success
        status=0
        wait "$monitor" || status=$?
        assert_equal "$status" 1
        run cat "$BATS_TEST_TMPDIR/monitor.err"
        assert_output "serrorctl: write error on standard output: No space left on device"
        wait_until 50 subscribers_are 0
}

@test "inject needs root or the control group; history is open to all" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        # With no vcpu the call would fail with exit 4 if the access check let it through.
        hold_wedged vm-perm "$(have_kvm && echo 1 || echo 0)" 4
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SERRORCTL" inject vm-perm uer
        assert_failure 5
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SERRORCTL" history --json
        assert_success
}

@test "[Control] AllowGroups= admits a member by supplementary or primary group, as the bus daemon saw it" {
        require_kvm
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        users=$(getent group users | cut -d: -f3)
        [ -n "$users" ] || skip "no group named users"
        hold_wedged vm-group 1 4
        run setpriv --reuid=65534 --regid=65534 --groups="$users" "$SERRORCTL" inject --no-wait --timeout=1ms vm-group ce
        assert_success
        run setpriv --reuid=65534 --regid="$users" --clear-groups "$SERRORCTL" inject --no-wait --timeout=1ms vm-group ce
        assert_success
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SERRORCTL" inject --no-wait --timeout=1ms vm-group ce
        assert_failure 5
        assert_output --partial "uid 65534 may not call Inject"
}

@test "the history is bounded by [History] Size=" {
        require_kvm
        hold_wedged vm-ring 1 4
        for i in $(seq 55); do
                serrorctl inject --no-wait --timeout=1ms vm-ring ce >/dev/null
                # Keep below the per-vcpu bound.
                (( i % 10 == 0 )) && sleep 2.2
        done
        sleep 2.3
        run serrorctl history --json
        [ "$(jq length <<<"$output")" = 50 ]
}
