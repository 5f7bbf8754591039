#!/usr/bin/env bats
# serrord's life on a private system bus: the name, signals, sd_notify, introspection.

load helpers

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/d.XXXXXX")
        serror_bus_start "$DIR"
}

teardown() {
        serror_daemon_stop "$DIR" || true
        serror_bus_stop "$DIR"
}

@test "serrord takes its bus name and leaves the bus cleanly on SIGTERM" {
        "$SERRORD" --log-target=stderr --config=/dev/null --attach-socket="$DIR/attach.sock" >"$DIR/log" 2>&1 3>&- &
        pid=$!
        wait_until 100 name_has_owner
        kill -TERM "$pid"
        status=0
        wait "$pid" || status=$?
        assert_equal "$status" 0
        name_has_no_owner
        run cat "$DIR/log"
        assert_output --partial "Received Terminated, shutting down."
        # A sanitizer build reports leaks at exit; none may appear.
        refute_output --partial "LeakSanitizer"
}

@test "serrord exits cleanly on SIGINT too" {
        "$SERRORD" --log-target=stderr --config=/dev/null --attach-socket="$DIR/attach.sock" >"$DIR/log" 2>&1 3>&- &
        pid=$!
        wait_until 100 name_has_owner
        kill -INT "$pid"
        status=0
        wait "$pid" || status=$?
        assert_equal "$status" 0
        name_has_no_owner
}

@test "serrord tells systemd READY=1, STATUS= and STOPPING=1" {
        "$HELPERS/notify-recv" "$DIR/notify" 20 >"$DIR/notify.out" 3>&- &
        listener=$!
        wait_until 50 test -S "$DIR/notify"
        NOTIFY_SOCKET="$DIR/notify" "$SERRORD" --log-target=stderr --config=/dev/null --attach-socket="$DIR/attach.sock" >"$DIR/log" 2>&1 3>&- &
        pid=$!
        wait_until 100 name_has_owner
        kill -TERM "$pid"
        wait "$pid"
        wait "$listener"
        run cat "$DIR/notify.out"
        assert_line --index 0 --partial "READY=1"
        assert_line --index 0 --partial "STATUS=Serving org.serror.serror1"
        assert_line --index 1 --partial "STOPPING=1"
}

@test "a second serrord refuses to start while the first owns the name" {
        serror_daemon_start "$DIR"
        run "$SERRORD" --log-target=stderr --config=/dev/null --attach-socket="$DIR/attach2.sock"
        assert_failure 1
        assert_output --partial "another serrord owns it"
        # The first one is unharmed.
        run serrorctl status --json
        assert_success
}

@test "a user the bus policy does not allow cannot own the name" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SERRORD" --log-target=stderr --config=/dev/null
        assert_failure 1
        assert_output --partial "does not allow this user to own it"
}

@test "serrord exits with an error when the bus goes away" {
        serror_daemon_start "$DIR"
        pid=$SERRORD_PID
        serror_bus_stop "$DIR"
        status=0
        wait_until 50 bash -c "! kill -0 $pid 2>/dev/null" || fail "serrord kept running without its bus"
        wait "$pid" || status=$?
        assert_equal "$status" 1
        rm -f "$DIR/serrord.pid"
        run cat "$DIR/serrord.log"
        assert_output --partial "Lost the bus connection"
}

@test "the exported interface matches daemon/org.serror.serror1.Manager.xml" {
        serror_daemon_start "$DIR"
        run "$abs_top_srcdir/tests/bats/dump-introspection"
        assert_success
        diff -u "$abs_top_srcdir/daemon/org.serror.serror1.Manager.xml" <(echo "$output")
}

@test "serrord refuses a configuration file that is a FIFO, at once and by name" {
        dir=$(mktemp -d "$BATS_TEST_TMPDIR/fifo.XXXXXX")
        mkfifo "$dir/serrord.conf"
        ln -s "$dir/serrord.conf" "$dir/link.conf"
        for conf in "$dir/serrord.conf" "$dir/link.conf"; do
                run timeout 10 "$SERRORD" --log-target=stderr --config="$conf" --attach-socket="$dir/attach.sock"
                assert_failure 2
                assert_output --partial "invalid configuration: $conf: not a regular file"
        done
}
