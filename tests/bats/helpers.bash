# Shared set-up for the BATS tier: a private system-bus-like dbus-daemon, and serrord on it.
# Every process started here is stopped by the matching teardown.

bats_load_library bats-support
bats_load_library bats-assert

: "${abs_top_builddir:?run the BATS tier through make check}"
: "${abs_top_srcdir:?run the BATS tier through make check}"
SERRORD="$abs_top_builddir/daemon/serrord"
SERRORCTL="$abs_top_builddir/cli/serrorctl"
HELPERS="$abs_top_builddir/tests/helpers"
# serrorctl attach --pid starts the helper from the build tree, not $(pkglibexecdir).
export SERROR_ATTACH_PID_HELPER="$abs_top_builddir/agent/serror-attach-pid"
SERROR_BUS_NAME=org.serror.serror1
SERROR_BUS_PATH=/org/serror/serror1
: "${DBUS_DAEMON:=$(command -v dbus-daemon)}"

# Wait until "$@" succeeds, up to $1 tenths of a second.
wait_until() {
        local tries=$1
        shift
        while ((tries-- > 0)); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}

require_dbus_daemon() {
        [[ -x "$DBUS_DAEMON" ]] || skip "dbus-daemon is not installed (apt-get install dbus-daemon)"
}

bus_answers() {
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null 2>&1
}

# Start a private bus in $1 (a directory); exports DBUS_SYSTEM_BUS_ADDRESS.
serror_bus_start() {
        local dir=$1 sockdir
        require_dbus_daemon
        # The socket lives where unprivileged test users (setpriv) can reach it.
        sockdir=$(mktemp -d /tmp/serror-bus.XXXXXX)
        chmod 755 "$sockdir"
        echo "$sockdir" >"$dir/bus.sockdir"
        sed -e "s|@SOCKET@|$sockdir/system_bus_socket|" -e "s|@POLICYDIR@|$abs_top_srcdir/systemd|" \
                "$abs_top_srcdir/tests/bats/system-bus.conf.in" >"$dir/bus.conf"
        # A test's own bus policy drop-ins, as an administrator would add them.
        if [ -d "$dir/system.d" ]; then
                sed -i "s|</busconfig>|  <includedir>$dir/system.d</includedir>\n</busconfig>|" "$dir/bus.conf"
        fi
        # fd 3 is bats's own: a background child holding it would stall the run.
        "$DBUS_DAEMON" --config-file="$dir/bus.conf" --nofork --nopidfile >"$dir/dbus.log" 2>&1 3>&- &
        echo $! >"$dir/dbus.pid"
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$sockdir/system_bus_socket"
        # The socket file exists from bind(), before listen(): wait for an answer, not the file.
        wait_until 50 bus_answers || {
                cat "$dir/dbus.log" >&2
                return 1
        }
}

serror_bus_stop() {
        local dir=$1
        [[ -f "$dir/dbus.pid" ]] || return 0
        kill "$(cat "$dir/dbus.pid")" 2>/dev/null || true
        rm -f "$dir/dbus.pid"
        [[ -f "$dir/bus.sockdir" ]] && rm -rf "$(cat "$dir/bus.sockdir")" "$dir/bus.sockdir"
        return 0
}

name_has_owner() {
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner "string:${1:-$SERROR_BUS_NAME}" 2>/dev/null | grep -q 'boolean true'
}

name_has_no_owner() {
        ! name_has_owner "$@"
}

# Start serrord on the private bus with the config file $dir/serrord.conf
# (created empty when missing) and extra options; waits for its bus name.
serror_daemon_start() {
        local dir=$1
        shift
        [[ -f "$dir/serrord.conf" ]] || : >"$dir/serrord.conf"
        # Each serrord gets its own attach socket: test files run in parallel.
        "$SERRORD" --log-target=stderr --config="$dir/serrord.conf" --attach-socket="$dir/attach.sock" "$@" \
                >"$dir/serrord.log" 2>&1 3>&- &
        SERRORD_PID=$!
        echo "$SERRORD_PID" >"$dir/serrord.pid"
        # A sanitizer build starts slower: allow 10 s.
        if ! wait_until 100 name_has_owner; then
                echo "serrord did not take $SERROR_BUS_NAME; its log:" >&2
                cat "$dir/serrord.log" >&2
                return 1
        fi
}

# Stop serrord with SIGTERM; fails if it does not exit within 5 s.
serror_daemon_stop() {
        local dir=$1 pid
        [[ -f "$dir/serrord.pid" ]] || return 0
        pid=$(cat "$dir/serrord.pid")
        rm -f "$dir/serrord.pid"
        kill -TERM "$pid" 2>/dev/null || return 0
        wait_until 50 bash -c "! kill -0 $pid 2>/dev/null" || {
                kill -KILL "$pid" 2>/dev/null
                echo "serrord ($pid) ignored SIGTERM" >&2
                return 1
        }
}

# Per-file fixture: one bus and one serrord for every test of the file.
serror_fixture_setup() {
        SERROR_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/serror.XXXXXX")
        export SERROR_DIR
        serror_bus_start "$SERROR_DIR"
        serror_daemon_start "$SERROR_DIR" "$@"
}

serror_fixture_teardown() {
        [[ -n "${SERROR_DIR:-}" ]] || return 0
        serror_daemon_stop "$SERROR_DIR"
        serror_bus_stop "$SERROR_DIR"
}

serrorctl() {
        "$SERRORCTL" "$@"
}

# The package version as configure set it, for --version checks.
package_version() {
        sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$abs_top_builddir/config.h"
}

# A per-file serrord whose attach socket unprivileged test users (setpriv) can
# reach. A serrord.conf the caller wrote to $BATS_FILE_TMPDIR is used.
serror_shared_setup_file() {
        local sockdir
        sockdir=$(mktemp -d /tmp/serror-sock.XXXXXX)
        chmod 755 "$sockdir"
        echo "$sockdir" >"$BATS_FILE_TMPDIR/sockdir"
        export SERROR_DIR=$BATS_FILE_TMPDIR
        serror_bus_start "$SERROR_DIR"
        serror_daemon_start "$SERROR_DIR" --attach-socket="$sockdir/attach.sock"
}

serror_shared_teardown_file() {
        export SERROR_DIR=$BATS_FILE_TMPDIR
        serror_fixture_teardown
        [ -f "$BATS_FILE_TMPDIR/sockdir" ] && rm -rf "$(cat "$BATS_FILE_TMPDIR/sockdir")"
        return 0
}

# Per test: SOCK and SERRORD_PID of the file's serrord.
serror_shared_setup() {
        SOCK="$(cat "$BATS_FILE_TMPDIR/sockdir")/attach.sock"
        SERRORD_PID=$(cat "$BATS_FILE_TMPDIR/serrord.pid")
}

# require_kvm: skips a test that needs real vcpu fds where this machine has no
# usable /dev/kvm. Never call it from setup_file (bats 1.8 turns a skip there
# into an error). The arm64 tier runs every such test again inside arm64 KVM
# (tests/e2e/bats-tier), so no host loses them.
require_kvm() {
        [ -w /dev/kvm ] || skip "needs /dev/kvm, which this machine lacks (tests/e2e/bats-tier runs it in arm64 KVM)"
}

# require_vmm: require_kvm, and the test VMM built for this host.
require_vmm() {
        require_kvm
        [ -x "$abs_top_builddir/tests/vmm/serror-test-vmm" ] || skip "the test VMM is not built for this host"
}

# passed_guards JSON: the first outcome of `inject --json` went to the vcpu: injected on an
# arm64 host, failed with EOPNOTSUPP on x86_64 (the agent cannot make an SError pending there).
passed_guards() {
        local outcome error
        outcome=$(jq -r '.[0].outcome' <<<"$1")
        error=$(jq -r '.[0].error' <<<"$1")
        case $(uname -m) in
        aarch64) [ "$outcome" = injected ] ;;
        *) [ "$outcome" = failed ] && [ "$error" = EOPNOTSUPP ] ;;
        esac || {
                echo "expected the injection to reach the vcpu, got: $1" >&2
                return 1
        }
}

# now_ms: milliseconds since the epoch, without GNU date (the arm64 guest has busybox's).
now_ms() {
        local t=${EPOCHREALTIME/[.,]/}
        echo $((t / 1000))
}

# have_kvm: true where real vcpus can be made.
have_kvm() {
        [ -w /dev/kvm ]
}

vm_count_is() {
        [ "$(serrorctl list --json | jq length)" = "$1" ]
}

# start_vmm NAME FD [VMM OPTIONS...]: the test VMM ($VMM) attached to $SOCK, its stdin held by fd FD,
# its output in $DIR/NAME.out; VMM_PID is its pid, VMM_PIDS gathers them for teardown.
start_vmm() {
        local name=$1 fd=$2
        shift 2
        mkfifo "$DIR/$name.in"
        "$VMM" --name="$name" --attach="$SOCK" "$@" <"$DIR/$name.in" >"$DIR/$name.out" 2>&1 3>&- &
        VMM_PID=$!
        VMM_PIDS="${VMM_PIDS:-} $VMM_PID"
        eval "exec $fd>\"$DIR/$name.in\""
}

# vm_vcpus_are NAME JSON: the VM's attached vcpu indexes are exactly JSON, e.g. "[0,1]".
vm_vcpus_are() {
        [ "$(serrorctl list --json | jq -c "[.[] | select(.name == \"$1\") | .vcpus[].index]")" = "$2" ]
}

# traced_threads PID: how many threads of PID are traced right now (attach --pid must leave none).
traced_threads() {
        awk '/^TracerPid:/ && $2 != 0 { n++ } END { print n + 0 }' /proc/"$1"/task/*/status
}

process_gone() {
        ! kill -0 "$1" 2>/dev/null
}
