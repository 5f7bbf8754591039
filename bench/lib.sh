# Shared by the host benchmarks (bash, sourced): a private bus, serrord on it,
# and attach-client VMs holding real vcpu fds. Everything is stopped on exit.

top_builddir=${abs_top_builddir:-$PWD}
top_srcdir=${abs_top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
client="$top_builddir/tests/helpers/attach-client"
serrord="$top_builddir/daemon/serrord"
serrorctl="$top_builddir/cli/serrorctl"

[ -w /dev/kvm ] || { echo "bench: /dev/kvm is not usable here" >&2; exit 77; }
[ -x "$client" ] || { echo "bench: build the tests first (make check)" >&2; exit 77; }

# On tmpfs: serrord may log every event here, and a disk write can stall it.
run=$(mktemp -d /dev/shm/serror-bench.XXXXXX 2>/dev/null || mktemp -d /tmp/serror-bench.XXXXXX)
pids=()
bench_cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        [ -f "$run/serrord.pid" ] && kill "$(cat "$run/serrord.pid")" 2>/dev/null
        [ -f "$run/dbus.pid" ] && kill "$(cat "$run/dbus.pid")" 2>/dev/null
        sleep 0.3
        rm -rf "$run"
}
trap bench_cleanup EXIT

# bench_start_serrord LOG_LEVEL CONFIG_TEXT: sets spid.
bench_start_serrord() {
        sed -e "s|@SOCKET@|$run/bus|" -e "s|@POLICYDIR@|$top_srcdir/systemd|" \
                "$top_srcdir/tests/bats/system-bus.conf.in" >"$run/bus.conf"
        dbus-daemon --config-file="$run/bus.conf" --nofork --nopidfile >/dev/null 2>&1 &
        echo $! >"$run/dbus.pid"
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$run/bus"
        # The socket file exists from bind(), before listen(): wait for an answer, not the file.
        until busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null 2>&1; do
                sleep 0.05
        done
        printf '%b' "$2" >"$run/serrord.conf"
        "$serrord" --log-target=stderr --log-level="$1" --config="$run/serrord.conf" \
                --attach-socket="$run/attach.sock" 2>"$run/serrord.log" &
        spid=$!
        echo $spid >"$run/serrord.pid"
        until "$serrorctl" status >/dev/null 2>&1; do sleep 0.05; done
}

# bench_attach_vms VMS VCPUS_PER_VM: clients holding real vcpu fds; they read
# serrord's requests and never answer them.
bench_attach_vms() {
        local i fd
        for i in $(seq "$1"); do
                mkfifo "$run/in.$i"
                "$client" "$run/attach.sock" attach "bench-$i" "$2" <"$run/in.$i" >/dev/null 2>&1 &
                pids+=($!)
                exec {fd}>"$run/in.$i"
        done
        for _ in $(seq 600); do
                [ "$("$serrorctl" status --json | jq .attached_vcpus)" -eq $(($1 * $2)) ] && return 0
                sleep 0.1
        done
        echo "bench: only $("$serrorctl" status --json | jq .attached_vcpus) of $(($1 * $2)) vcpus attached" >&2
        exit 1
}
