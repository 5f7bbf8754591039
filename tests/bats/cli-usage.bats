#!/usr/bin/env bats
# Every documented usage error of serrorctl and serrord, and their --help and --version.

load helpers

setup() {
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BATS_TEST_TMPDIR/no-bus-here"
}

@test "serrorctl --help lists every verb and the exit codes" {
        run serrorctl --help
        assert_success
        for verb in status list detach inject history monitor decode encode; do
                assert_line --regexp "^  $verb "
        done
        assert_output --partial "3 serrord not reachable"
}

@test "serrorctl VERB --help and help VERB show the verb's help" {
        for verb in status list detach inject history monitor decode encode; do
                run serrorctl "$verb" --help
                assert_success
                assert_line --index 0 --regexp "^Usage: serrorctl $verb"
                help_text=$output
                run serrorctl help "$verb"
                assert_success
                [ "$output" = "$help_text" ]
        done
}

@test "serrorctl --version prints the package version" {
        run serrorctl --version
        assert_success
        assert_output "serrorctl $(package_version)"
}

@test "usage errors exit 2 with one line that names the problem" {
        run serrorctl
        assert_failure 2
        assert_output "serrorctl: missing command (see serrorctl --help)"
        run serrorctl bogus
        assert_failure 2
        assert_output "serrorctl: unknown command 'bogus' (see serrorctl --help)"
        run serrorctl --bogus status
        assert_failure 2
        assert_output "serrorctl: unknown option '--bogus' (see serrorctl --help)"
        run serrorctl -x status
        assert_failure 2
        assert_output "serrorctl: unknown option '-x' (see serrorctl --help)"
        run serrorctl decode
        assert_failure 2
        assert_output "serrorctl: 'decode' needs VALUE (see serrorctl decode --help)"
        run serrorctl encode
        assert_failure 2
        assert_output "serrorctl: 'encode' needs SYNDROME (see serrorctl encode --help)"
        run serrorctl decode 1 2
        assert_failure 2
        assert_output "serrorctl: 'decode' takes only VALUE, got unexpected '2'"
        run serrorctl status extra
        assert_failure 2
        assert_output "serrorctl: 'status' takes no arguments, got unexpected 'extra'"
        run serrorctl --json=weird status
        assert_failure 2
        assert_output "serrorctl: invalid --json mode 'weird': expected short, pretty or off"
        run serrorctl help bogus
        assert_failure 2
        assert_output "serrorctl: unknown command 'bogus' (see serrorctl --help)"
        # Inject's timeout range (lib/bus-api.h): 1 ms and 1 h pass the check, just outside does not.
        for bad in 999us 3600001ms; do
                run serrorctl inject --timeout="$bad" vm ce
                assert_failure 2
                assert_output "serrorctl: invalid --timeout '$bad': expected a duration from 1ms to 1h, such as 500ms or 5s"
        done
}

@test "status without a bus exits 3 and names the bus name" {
        run serrorctl status
        assert_failure 3
        assert_equal "${#lines[@]}" 1
        assert_output --partial "serrord is not reachable"
        assert_output --partial "org.serror.serror1"
}

@test "serrord --help and --version" {
        run "$SERRORD" --help
        assert_success
        assert_output --partial "--config=PATH"
        assert_output --partial "org.serror.serror1"
        run "$SERRORD" --version
        assert_success
        assert_output "serrord $(package_version)"
}

@test "serrord usage errors exit 2 and name the value" {
        run "$SERRORD" --log-level=loud
        assert_failure 2
        assert_output --partial "invalid --log-level 'loud'"
        run "$SERRORD" --log-target=syslog
        assert_failure 2
        assert_output --partial "invalid --log-target 'syslog'"
        run "$SERRORD" stray
        assert_failure 2
        assert_output --partial "unexpected argument 'stray'"
        run "$SERRORD" --no-such-option
        assert_failure 2
}

@test "serrord refuses a bad configuration file and names file and line" {
        run "$SERRORD" --config="$BATS_TEST_TMPDIR/missing.conf"
        assert_failure 2
        assert_output --partial "missing.conf: No such file or directory"
        printf '[Daemon]\nLogLevel=debug\nColour=blue\n' >"$BATS_TEST_TMPDIR/bad.conf"
        run "$SERRORD" --config="$BATS_TEST_TMPDIR/bad.conf"
        assert_failure 2
        assert_output --partial "bad.conf: line 3: [Daemon] Colour=: unknown key"
        printf '[Daemon]\nLogLevel=loud\n' >"$BATS_TEST_TMPDIR/bad2.conf"
        run "$SERRORD" --config="$BATS_TEST_TMPDIR/bad2.conf"
        assert_failure 2
        assert_output --partial "line 2: [Daemon] LogLevel=: expected err, warning, notice, info or debug, got 'loud'"
        printf '[Nope]\nX=1\n' >"$BATS_TEST_TMPDIR/bad3.conf"
        run "$SERRORD" --config="$BATS_TEST_TMPDIR/bad3.conf"
        assert_failure 2
        assert_output --partial "unknown section [Nope]"
}

@test "serrord without a bus exits 1 and says why" {
        run "$SERRORD" --log-target=stderr --attach-socket="$BATS_TEST_TMPDIR/attach.sock"
        assert_failure 1
        assert_output --partial "Failed to connect to the system bus"
}

@test "the man pages name every verb and option the tools accept" {
        for verb in status list detach inject history monitor policy stop-all decode encode help; do
                grep -qE "^\.(B|BI|BR) \"?$verb\b" "$abs_top_srcdir/man/serrorctl.1" || fail "serrorctl.1 lacks $verb"
        done
        for opt in help version json no-legend allow-ids vcpu on-pending timeout no-wait dry-run vm seed for; do
                grep -q -- "\\\\-\\\\-$(sed 's/-/\\\\-/g' <<<"$opt")" "$abs_top_srcdir/man/serrorctl.1" || fail "serrorctl.1 lacks --$opt"
                { serrorctl --help; for v in status list detach inject history monitor policy stop-all decode encode; do serrorctl "$v" --help; done; } |
                        grep -q -- "--$opt" || fail "no serrorctl --help text names --$opt"
        done
        for opt in help version config log-target log-level attach-socket; do
                grep -q -- "\\\\-\\\\-$(sed 's/-/\\\\-/g' <<<"$opt")" "$abs_top_srcdir/man/serrord.8" || fail "serrord.8 lacks --$opt"
                "$SERRORD" --help | grep -q -- "--$opt" || fail "serrord --help lacks --$opt"
        done
        for key in LogLevel LogTarget KvmDevice Socket AllowUsers AllowGroups MaxConnections MaxVMsPerUser MaxVcpusPerVM Size \
                RateLimit RateBurst MinGap MaxSeverity DryRun Directory; do
                grep -q "^\.BI $key= " "$abs_top_srcdir/man/serrord.8" || fail "serrord.8 lacks $key="
        done
}

@test "output that cannot be written is a failure, with the reason" {
        run serrorctl encode uer
        assert_success
        run bash -c '"$0" encode uer >/dev/full' "$SERRORCTL"
        assert_failure 1
        assert_output "serrorctl: write error on standard output: No space left on device"
        run bash -c '"$0" decode --json 0xbe000c11 >&-' "$SERRORCTL"
        assert_failure 1
        assert_output "serrorctl: write error on standard output: Bad file descriptor"
        # A verb that already failed keeps its own exit status.
        run bash -c '"$0" encode aet=bogus >/dev/full' "$SERRORCTL"
        assert_failure 2
}
