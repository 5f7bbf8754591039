#!/usr/bin/env bats
# libserror-preload in processes that make no vcpus: it stays out of their way (ioctls, errno, children, a VMM with its own agent) and names bad configuration. qemu.bats has it serving a real QEMU.

load helpers

PRELOAD="$abs_top_builddir/agent/.libs/libserror-preload.so"

setup() {
        DIR=$(mktemp -d "$BATS_TEST_TMPDIR/p.XXXXXX")
        [ -f "$PRELOAD" ] || fail "libserror-preload is not built: $PRELOAD"
        # A sanitizer build's preload needs the sanitizer's runtime loaded first.
        LOAD=$PRELOAD
        if readelf -d "$PRELOAD" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
                LOAD="$(gcc -print-file-name=libasan.so) $PRELOAD"
                export ASAN_OPTIONS=detect_leaks=0
        fi
}

@test "children of a preloaded process do not load it again; other LD_PRELOAD entries stay" {
        run env LD_PRELOAD="$LOAD" bash -c 'echo "[${LD_PRELOAD-unset}]"'
        assert_success
        want=${LOAD% "$PRELOAD"}
        [ "$want" = "$LOAD" ] && want=unset
        assert_output "[$want]"

        libc=$(awk '$6 ~ /\/libc\.so/ { print $6; exit }' /proc/self/maps)
        [ -n "$libc" ]
        run env LD_PRELOAD="$LOAD:$libc" bash -c 'echo "[$LD_PRELOAD]"'
        assert_success
        assert_output --partial "$libc]"
        refute_output --partial libserror-preload
}

@test "ioctls that are not KVM's pass through with their results and errno; KVM_RUN on a non-vcpu fd too" {
        command -v python3 >/dev/null || skip "python3 is not installed"
        script='
import errno, fcntl, os, struct, termios
r, w = os.pipe()
os.write(w, b"12345")
print("FIONREAD", struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0\0\0\0"))[0])
for name, req in (("KVM_RUN", 0xAE80), ("KVM_CREATE_VCPU", 0xAE41), ("TCGETS", termios.TCGETS)):
    try:
        fcntl.ioctl(r, req, 0)
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
m = __import__("mmap").mmap(-1, 4096)
m.write(b"x"); m.close(); os.close(r); os.close(w)
print("done")
'
        run python3 -c "$script"
        assert_success
        without=$output
        assert_line "FIONREAD 5"
        assert_line "KVM_RUN ENOTTY"
        run env LD_PRELOAD="$LOAD" python3 -c "$script"
        assert_success
        [ "$output" = "$without" ] || fail "with the preload: $output; without: $without"
}

@test "a process that never makes a vcpu never connects to serrord" {
        serror_bus_start "$DIR"
        serror_daemon_start "$DIR"
        run env LD_PRELOAD="$LOAD" SERROR_ATTACH_SOCKET="$DIR/attach.sock" bash -c 'sleep 0.5; echo ran'
        assert_success
        assert_output ran
        run serrorctl list --json
        assert_output "[]"
        ! grep -q "attached\|connection" "$DIR/serrord.log" || fail "$(cat "$DIR/serrord.log")"
        serror_daemon_stop "$DIR"
        serror_bus_stop "$DIR"
}

@test "bad SERROR_VM_NAME, SERROR_VM_LABELS or SERROR_KICK_SIGNAL: one line naming it, and the program runs on" {
        run env LD_PRELOAD="$LOAD" SERROR_VM_NAME="web 1" bash -c 'echo ran'
        assert_success
        assert_line 'serror-preload: SERROR_VM_NAME "web 1" is not a VM name: 1 to 64 of A-Z a-z 0-9 . _ -, not shaped like a UUID; not serving this process'
        assert_line ran
        run env LD_PRELOAD="$LOAD" SERROR_VM_LABELS="rack" bash -c 'echo ran'
        assert_success
        assert_line --partial "serror-preload: SERROR_VM_LABELS: "
        assert_line ran
        run env LD_PRELOAD="$LOAD" SERROR_KICK_SIGNAL=SIGKILL bash -c 'echo ran'
        assert_success
        assert_line --partial 'serror-preload: SERROR_KICK_SIGNAL "SIGKILL" is not a usable kick'
        assert_line ran
        # A good configuration in a process without vcpus says nothing at all.
        run env LD_PRELOAD="$LOAD" SERROR_VM_NAME=web-1 SERROR_VM_LABELS=rack=r7 SERROR_KICK_SIGNAL=SIGRTMIN+2 bash -c 'echo ran'
        assert_success
        assert_output ran
}

@test "a VMM that links libserror-agent itself: the preload stays out of its way" {
        vmm=$abs_top_builddir/tests/vmm/.libs/serror-test-vmm
        [ -x "$vmm" ] || skip "no dynamically linked test VMM in this build"
        run env LD_LIBRARY_PATH="$abs_top_builddir/agent/.libs" LD_PRELOAD="$LOAD" "$vmm" --help
        assert_success
        assert_line "serror-preload: this VMM links libserror-agent itself; the preload stays out of its way"
}

@test "the preload exports only the calls it interposes" {
        run bash -c "nm -D --defined-only '$PRELOAD' | awk '{ print \$3 }' | sort | tr '\n' ' '"
        assert_success
        assert_output "close ioctl mmap mmap64 "
}
