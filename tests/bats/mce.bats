#!/usr/bin/env bats
# x86 machine checks through serrord and libserror-agent, and x86's answer to an SError: each preset in the test guest's #MC handler with the bank values written, MCIP and the three modes, CR4.MCE clear, a VMM that never set up MCE, policies, refusals.
# The tests that need x86 vcpus run in the x86 tier (tests/e2e/x86-bats-tier); the refusals run everywhere.

load helpers

VMM="$abs_top_builddir/tests/vmm/serror-test-vmm"
CLIENT="$abs_top_builddir/tests/helpers/attach-client"

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/m.XXXXXX")
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

require_x86_vmm() {
        [ "$(uname -m)" = x86_64 ] || skip "x86_64 only: machine checks are x86's (tests/e2e/x86-bats-tier runs it)"
        [ -w /dev/kvm ] || skip "needs x86 KVM, which this machine lacks (tests/e2e/x86-bats-tier runs it)"
        require_vmm
}

# count NAME PATTERN: lines of the VMM's output with PATTERN.
count() {
        grep -c -F "$2" "$DIR/$1.out" || true
}

# wait_count NAME PATTERN N: until the VMM printed N such lines (10 s).
wait_count() {
        local i
        for i in $(seq 100); do
                [ "$(count "$1" "$2")" -ge "$3" ] && return 0
                sleep 0.1
        done
        echo "$1 printed $(count "$1" "$2") lines with $2, not $3:" >&2
        cat "$DIR/$1.out" >&2
        return 1
}

# nth NAME PATTERN N: the Nth such line.
nth() {
        grep -F "$2" "$DIR/$1.out" | sed -n "$3p"
}

@test "inject: a machine check with a wrong field is a usage error naming it" {
        run serrorctl inject vm mce:bank=40
        assert_failure 2
        assert_output --partial "invalid machine check 'mce:bank=40'"
        assert_output --partial "bank"
        run serrorctl inject vm srao,addr=0x1000,status=0xb100000000000000
        assert_failure 2
        assert_output --partial "ADDRV"
        run serrorctl inject --allow-ids vm srar
        assert_failure 2
        assert_output "serrorctl: --allow-ids is for SError syndromes, not machine checks"
}

@test "a machine check for an agent that does not execute them is refused with the reason" {
        # An agent whose HELLO lacks the MCE capability, with a real vcpu where there is KVM.
        n=$(have_kvm && echo 1 || echo 0)
        mkfifo "$DIR/old.in"
        "$CLIENT" "$SOCK" attach old-agent "$n" <"$DIR/old.in" >"$DIR/old.out" 2>&1 3>&- &
        exec 4>"$DIR/old.in"
        wait_until 50 vm_vcpus_are old-agent "$(have_kvm && echo '[0]' || echo '[]')"
        run serrorctl inject old-agent srao
        assert_failure
        case $(uname -m) in
        x86_64) assert_output --partial "The agent of VM old-agent does not execute machine checks" ;;
        *) assert_output --partial "VM old-agent is arm64: machine checks are x86's" ;;
        esac
        # Nothing was sent, nothing recorded.
        [ "$(serrorctl history --json | jq length)" = 0 ]
}

@test "on x86_64 an SError request fails with a message pointing at machine checks, in both agent modes and both paths" {
        require_x86_vmm
        start_vmm vm-a 4 --vcpus=2 --agent-mode=poll
        start_vmm vm-b 5 --vcpus=1 --agent-mode=thread --no-pre-run
        wait_until 50 vm_vcpus_are vm-a "[0,1]"
        wait_until 50 vm_vcpus_are vm-b "[0]"
        for vm in vm-a vm-b; do
                run serrorctl inject --vcpu=all --json "$vm" uer
                assert_failure 1
                [ "$(jq -r '[.[].outcome] | unique | join(",")' <<<"$output")" = failed ]
                [ "$(jq -r '[.[].error] | unique | join(",")' <<<"$output")" = EOPNOTSUPP ]
                [ "$(jq -r '.[0].message' <<<"$output")" = "SError injection needs an arm64 KVM host; on x86 inject a machine check (srao, srar, ucna, fatal, mce:...)" ]
        done
        run serrorctl inject vm-a uer
        assert_failure 1
        assert_line --index 0 "vm-a vcpu 0: failed (EOPNOTSUPP: SError injection needs an arm64 KVM host; on x86 inject a machine check (srao, srar, ucna, fatal, mce:...))"
}

@test "srao lands in the guest's #MC handler with exactly the bank values written, through both agent paths" {
        require_x86_vmm
        start_vmm vm-x 4 --vcpus=1
        start_vmm vm-w 5 --vcpus=1 --agent-mode=thread --no-pre-run
        wait_until 100 vm_vcpus_are vm-x "[0]"
        wait_until 100 vm_vcpus_are vm-w "[0]"
        for vm in vm-x vm-w; do
                run serrorctl inject --json "$vm" srao
                assert_success
                [ "$(jq -r '.[0].kind' <<<"$output")" = machine-check ]
                [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
                [ "$(jq -r '.[0].mce.class' <<<"$output")" = srao ]
                [ "$(jq -r '.[0].written.mci_status' <<<"$output")" = 0xbd000000000000c0 ]
                [ "$(jq -r '.[0].before.mcip' <<<"$output")" = false ]
                wait_count "$vm" '"event":"mce"' 1
                line=$(nth "$vm" '"event":"mce"' 1)
                [ "$(jq -r .bank <<<"$line")" = 1 ]
                [ "$(jq -r .status <<<"$line")" = 0xbd000000000000c0 ]
                [ "$(jq -r .mcg_status <<<"$line")" = 0x5 ]
        done
}

@test "each preset: srar and fatal reach the handler, ucna and mce:ce are logged in the bank without a #MC" {
        require_x86_vmm
        start_vmm vm-p 4 --vcpus=1
        wait_until 100 vm_vcpus_are vm-p "[0]"
        n=0
        for preset in srar:0xbd80000000000134:0x7 fatal:0xb200000000000000:0x6 \
                "mce:bank=2,uc,s,ar,code=0x134,addr=0x1000,misc=0x86,ripv,eipv,mcip:0xbd80000000000134:0x7"; do
                # (not "status": bats's run sets that)
                text=${preset%:*:*}
                rest=${preset#"$text":}
                want_status=${rest%%:*}
                mcg=${rest#*:}
                run serrorctl inject --json vm-p "$text"
                assert_success
                [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
                n=$((n + 1))
                wait_count vm-p '"event":"mce"' "$n"
                line=$(nth vm-p '"event":"mce"' "$n")
                [ "$(jq -r .status <<<"$line")" = "$want_status" ] || fail "$text: the guest read $line"
                [ "$(jq -r .mcg_status <<<"$line")" = "$mcg" ] || fail "$text: the guest read $line"
        done
        # The custom one went to bank 2 with its address and MISC.
        [ "$(jq -r .bank <<<"$line")" = 2 ]
        [ "$(jq -r .addr <<<"$line")" = 0x1000 ]
        [ "$(jq -r .misc <<<"$line")" = 0x86 ]
        # A UCNA and a CE raise no #MC; KVM_GET_MSRS after the write shows the bank. A CE
        # into a bank that holds an uncorrected error leaves that error and adds OVER (x86.c).
        for row in ucna:1:0xbc00000000000010 mce:ce,bank=3:3:0x9c00000000000001 mce:ce:1:0xfc00000000000010; do
                text=${row%%:[0-9]*}
                rest=${row#"$text":}
                bank=${rest%%:*}
                want_status=${rest#*:}
                run serrorctl inject --json vm-p "$text"
                assert_success
                [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
                [[ "$(jq -r '.[0].message' <<<"$output")" == *"bank $bank reads MCi_STATUS $want_status"* ]] ||
                        fail "$text: $output"
        done
        [[ "$(jq -r '.[0].message' <<<"$output")" == *"not the value written"* ]] || fail "$output"
        sleep 0.5
        [ "$(count vm-p '"event":"mce"')" = "$n" ] || fail "a corrected or UCNA error raised a #MC"
        [ "$(count vm-p '"event":"vcpu-error"')" = 0 ]
}

@test "MCIP set: merge coalesces, skip drops, a CE is still logged, defer waits until the guest clears MCIP" {
        require_x86_vmm
        start_vmm vm-m 4 --vcpus=1
        wait_until 100 vm_vcpus_are vm-m "[0]"
        # A masked test guest leaves MCIP set after its handler, as a guest still handling one would.
        echo "mask 0" >&4
        wait_count vm-m '"event":"mask"' 1
        run serrorctl inject --json vm-m srao
        assert_success
        wait_count vm-m '"event":"mce"' 1

        # Coalesced counts as landed (exit 0): the guest takes a machine check either way.
        run serrorctl inject --json vm-m srar
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = coalesced ]
        [ "$(jq -r '.[0].before.mcip' <<<"$output")" = true ]
        [ "$(jq -r '.[0].written' <<<"$output")" = null ]
        run serrorctl inject --json --on-pending=skip vm-m srar
        assert_failure 6
        [ "$(jq -r '.[0].outcome' <<<"$output")" = skipped ]
        # Bank 2: a CE left in bank 1 would add OVER to the deferred one below.
        run serrorctl inject --json --on-pending=skip vm-m mce:ce,bank=2
        assert_success
        [ "$(jq -r '.[0].outcome' <<<"$output")" = injected ]
        run serrorctl inject --dry-run --json vm-m srar
        assert_failure 8
        [ "$(jq -r '.[0].message' <<<"$output")" = "dry run: MCIP is set (MCG_STATUS 0x5); would be coalesced" ]
        [ "$(count vm-m '"event":"mce"')" = 1 ]
        [ "$(count vm-m '"event":"vcpu-error"')" = 0 ]

        run serrorctl inject --no-wait --json --on-pending=defer --timeout=20s vm-m srar
        assert_success
        id=$(jq -r '.[0]' <<<"$output")
        sleep 0.5
        [ "$(count vm-m '"event":"mce"')" = 1 ] || fail "the deferred machine check was written while MCIP was set"
        echo "unmask 0" >&4
        wait_count vm-m '"event":"mce"' 2
        line=$(nth vm-m '"event":"mce"' 2)
        [ "$(jq -r .status <<<"$line")" = 0xbd80000000000134 ]
        wait_until 50 bash -c "serrorctl history --json | jq -e '.[] | select(.id == $id and .outcome == \"deferred\")' >/dev/null"
        [ "$(count vm-m '"event":"vcpu-error"')" = 0 ]
}

@test "measured: a UCNA written while MCIP is set clears MCIP (KVM sets MCG_STATUS to its 0), so serror holds one back" {
        require_x86_vmm
        start_vmm vm-u 4 --vcpus=1
        wait_until 100 vm_vcpus_are vm-u "[0]"
        echo "mask 0" >&4
        wait_count vm-u '"event":"mask"' 1
        run serrorctl inject --json vm-u srao
        assert_success
        wait_count vm-u '"event":"mce"' 1
        run serrorctl inject --dry-run --json vm-u srar
        [ "$(jq -r '.[0].before.mcg_status' <<<"$output")" = 0x5 ]
        # serror holds a UCNA back while MCIP is set ...
        run serrorctl inject --json vm-u ucna
        [ "$(jq -r '.[0].outcome' <<<"$output")" = coalesced ]
        # ... because of what KVM does when a VMM writes one anyway (the test VMM's own KVM_X86_SET_MCE):
        echo "inject 0 0xbc00000000000010" >&4
        wait_count vm-u '"event":"self-inject","vcpu":0,"status":"0xbc00000000000010","bank":1,"mcg_status":"0x0","result":"ok"' 1
        run serrorctl inject --dry-run --json vm-u srar
        [ "$(jq -r '.[0].before.mcg_status' <<<"$output")" = 0x0 ] || fail "MCG_STATUS after the UCNA: $output"
        [ "$(jq -r '.[0].before.mcip' <<<"$output")" = false ]
        [ "$(count vm-u '"event":"mce"')" = 1 ]
}

@test "CR4.MCE clear: the #MC becomes a shutdown, and inject says so" {
        require_x86_vmm
        start_vmm vm-c 4 --vcpus=1 --no-cr4-mce
        wait_until 100 vm_vcpus_are vm-c "[0]"
        run serrorctl inject --json vm-c srao
        assert_success
        [[ "$(jq -r '.[0].message' <<<"$output")" == *"CR4.MCE clear: KVM turns the #MC into a shutdown"* ]] ||
                fail "$output"
        wait_count vm-c 'guest shut down (triple fault)' 1
        [ "$(count vm-c '"event":"mce"')" = 0 ]
}

@test "a VMM that never set up machine checks: the agent calls KVM_X86_SETUP_MCE, and the #MC lands" {
        require_x86_vmm
        start_vmm vm-n 4 --vcpus=1 --no-mce-setup
        wait_until 100 vm_vcpus_are vm-n "[0]"
        run serrorctl inject --json vm-n srar
        assert_success
        [[ "$(jq -r '.[0].message' <<<"$output")" == *"KVM_X86_SETUP_MCE done"* ]] || fail "$output"
        wait_count vm-n '"event":"mce"' 1
        [ "$(jq -r .status <<<"$(nth vm-n '"event":"mce"' 1)")" = 0xbd80000000000134 ]
        # Set up once: the next one finds it done.
        run serrorctl inject --json vm-n mce:ce
        assert_success
        [[ "$(jq -r '.[0].message' <<<"$output")" != *"SETUP_MCE"* ]]
}

@test "dry run, history, monitor text and a policy carry the machine check" {
        require_x86_vmm
        start_vmm vm-h 4 --vcpus=2
        wait_until 100 vm_vcpus_are vm-h "[0,1]"
        run serrorctl inject --dry-run --json vm-h srao
        assert_failure 8
        [ "$(jq -r '.[0].outcome' <<<"$output")" = dry-run ]
        [ "$(jq -r '.[0].written.mci_status' <<<"$output")" = 0xbd000000000000c0 ]
        run serrorctl inject --vcpu=1 vm-h srar
        assert_success
        assert_line --index 0 "vm-h vcpu 1: injected"
        assert_output --partial "srar in bank 1:"
        assert_output --partial "before: MCG_STATUS 0x0 (MCIP clear)"
        assert_output --partial "written: MCi_STATUS 0xbd80000000000134, MCG_STATUS 0x7"
        wait_count vm-h '"event":"mce","vcpu":1' 1
        # The outcome's journal fields (on stderr they follow the message).
        line=$(grep -F "of mce:status=0xbd80000000000134" "$DIR/serrord.log" | grep -F "vcpu 1: injected")
        for field in SERROR_ERROR_KIND=machine-check SERROR_MCE_BANK=1 SERROR_MCI_STATUS=0xbd80000000000134 \
                SERROR_MCG_STATUS=0x0000000000000007 SERROR_MCE_CLASS=srar SERROR_OUTCOME=injected; do
                [[ "$line" == *" $field"* ]] || fail "no $field in: $line"
        done
        [[ "$line" != *SERROR_ISS=* ]] || fail "a machine check's record has an ISS: $line"

        cat >"$DIR/mce-policy.json" <<'EOF'
{
  "name": "mce-once",
  "targets": { "names": ["vm-h"], "vcpus": [0] },
  "error": "srao",
  "schedule": { "type": "once", "after": "0s" }
}
EOF
        run serrorctl policy load "$DIR/mce-policy.json"
        assert_success
        run serrorctl policy start mce-once
        assert_success
        wait_count vm-h '"event":"mce","vcpu":0' 1
        run serrorctl history --json --vm=vm-h
        assert_success
        [ "$(jq -r '[.[] | select(.origin == "mce-once")][0].mce.class' <<<"$output")" = srao ]
        [ "$(jq -r '[.[] | select(.origin == "mce-once")][0].outcome' <<<"$output")" = injected ]
        [ "$(jq -r '[.[] | .kind] | unique | join(",")' <<<"$output")" = machine-check ]
}
