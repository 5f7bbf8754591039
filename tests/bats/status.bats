#!/usr/bin/env bats
# serrorctl status against a real serrord on a private system bus, checked against the host itself.

load helpers

setup_file() {
        serror_fixture_setup
}

teardown_file() {
        serror_fixture_teardown
}

host_arch() {
        local m
        m=$(uname -m)
        [ "$m" = aarch64 ] && m=arm64
        echo "$m"
}

# KVM_CHECK_EXTENSION straight from the test helper, independent of serrord.
cap_value() {
        "$HELPERS/kvm-cap" /dev/kvm "$1" | awk '{print $2}'
}

@test "status shows version, host, KVM and attachments" {
        run serrorctl status
        assert_success
        assert_line --index 0 "serrord $(package_version) on org.serror.serror1"
        assert_line --regexp "^ +Host: $(host_arch)\$"
        assert_line --regexp '^ +KVM: /dev/kvm '
        assert_line --regexp '^ +KVM_CAP_VCPU_EVENTS '
        assert_line --regexp '^ +KVM_CAP_ARM_INJECT_SERROR_ESR '
        assert_line --regexp '^ +KVM_CAP_ARM_INJECT_EXT_DABT '
        assert_line --regexp '^ +Attached: 0 VMs, 0 vcpus$'
}

@test "status --json parses and its fields are right" {
        run serrorctl status --json
        assert_success
        json=$output
        [ "$(jq -r .bus_name <<<"$json")" = org.serror.serror1 ]
        [ "$(jq -r .version <<<"$json")" = "$(package_version)" ]
        [ "$(jq -r .architecture <<<"$json")" = "$(host_arch)" ]
        [ "$(jq -r .kvm.device <<<"$json")" = /dev/kvm ]
        [ "$(jq -r .attached_vms <<<"$json")" = 0 ]
        [ "$(jq -r .attached_vcpus <<<"$json")" = 0 ]
        now=$(date +%s)
        started=$(($(jq -r .start_timestamp_usec <<<"$json") / 1000000))
        ((started <= now && started > now - 600))
        [ "$(jq -r '.counters["attach-accepted"]' <<<"$json")" = 0 ]
        [ "$(jq -r '.counters["outcome-merged"]' <<<"$json")" = 0 ]
}

@test "KVM capabilities in status equal KVM_CHECK_EXTENSION on this host" {
        require_kvm
        run serrorctl status --json
        assert_success
        json=$output
        [ "$(jq -r .kvm.usable <<<"$json")" = true ]
        [ "$(jq -r .kvm.error <<<"$json")" = null ]
        [ "$(jq -r .kvm.api_version <<<"$json")" = 12 ]
        for cap in KVM_CAP_VCPU_EVENTS:41 KVM_CAP_ARM_INJECT_SERROR_ESR:158 KVM_CAP_ARM_INJECT_EXT_DABT:178; do
                name=${cap%:*} number=${cap#*:}
                want=$(cap_value "$number")
                [ "$(jq -r ".kvm.capabilities.$name.value" <<<"$json")" = "$want" ] || fail "$name: $json"
                if [ "$want" -gt 0 ]; then present=true; else present=false; fi
                [ "$(jq -r ".kvm.capabilities.$name.present" <<<"$json")" = $present ]
        done
        if [ "$(host_arch)" = x86_64 ]; then
                # An arm64-only capability on x86 is reported absent, not as an error.
                [ "$(jq -r .kvm.capabilities.KVM_CAP_ARM_INJECT_SERROR_ESR.present <<<"$json")" = false ]
                run serrorctl status
                assert_line --regexp '^ +KVM_CAP_ARM_INJECT_SERROR_ESR +absent$'
        fi
}

@test "status --json=pretty is the same object" {
        run serrorctl status --json
        short=$(jq -S 'del(.counters)' <<<"$output")
        run serrorctl status --json=pretty
        assert_success
        [ "${#lines[@]}" -gt 5 ]
        [ "$(jq -S 'del(.counters)' <<<"$output")" = "$short" ]
}

@test "an unusable KVM device is reported, not fatal" {
        dir=$(mktemp -d "$BATS_TEST_TMPDIR/nokvm.XXXXXX")
        printf '[Daemon]\nKvmDevice=/nonexistent/kvm\n' >"$dir/serrord.conf"
        # Same bus, so stop the fixture's serrord for a moment.
        serror_daemon_stop "$SERROR_DIR"
        serror_daemon_start "$dir"
        run serrorctl status --json
        serror_daemon_stop "$dir"
        serror_daemon_start "$SERROR_DIR"
        [ "$(jq -r .kvm.usable <<<"$output")" = false ]
        [ "$(jq -r .kvm.device <<<"$output")" = /nonexistent/kvm ]
        [ "$(jq -r .kvm.error <<<"$output")" = "No such file or directory" ]
        [ "$(jq -r .kvm.capabilities.KVM_CAP_VCPU_EVENTS.present <<<"$output")" = false ]
        run grep -c "/nonexistent/kvm is not usable: No such file or directory" "$dir/serrord.log"
        assert_output 1
}

@test "status when the bus is up but serrord is not: exit 3, one line naming the bus name" {
        serror_daemon_stop "$SERROR_DIR"
        run serrorctl status
        serror_daemon_start "$SERROR_DIR"
        assert_failure 3
        assert_output "serrorctl: serrord is not running: nothing owns org.serror.serror1 on the system bus."
}
