# Guest-side helpers of the serror arm64 scenarios (busybox sh, sourced): serrord, test VMMs, injections, tagged lines.
#
# The guest only acts and reports; the host decides. Every line the host
# reads starts with E2E: (run-guest strips it):
#   STEP [<uptime>] <text>   progress, for whoever reads the log
#   INJ <tag> rc=<N> <json>  serrorctl inject --json's answer and exit status
#   EV <tag> <json>          a test VMM event, grouped under <tag>
#   VAL <tag> <value...>     any other observation (ids, counts, timings, JSON)
#   ERROR <text>             the scenario could not go on as planned
#   LOG <file> <line>        logs, printed at the end for diagnosis
# Tags and VM names carry no spaces.
# shellcheck shell=dash

ATTACH_SOCKET=/run/serrord/attach.sock
# Under nested emulation a vcpu may take a while to come out of KVM_RUN.
INJECT_TIMEOUT=${INJECT_TIMEOUT:-10s}
SERRORD_PID=

say() {
        echo "E2E:$*"
}

# step TEXT: a STEP line, with the seconds since boot.
step() {
        local up rest
        read -r up rest </proc/uptime
        say "STEP [$up] $*"
}

# Milliseconds since boot (/proc/uptime has hundredths).
now_ms() {
        local up rest
        read -r up rest </proc/uptime
        echo $((${up%.*} * 1000 + 1${up#*.}0 - 1000))
}

# wait_until TENTHS COMMAND...: until COMMAND succeeds, up to TENTHS tenths of
# a second. COMMAND runs each time; a $(...) in its arguments would not.
wait_until() {
        local tries=$1
        shift
        while ! "$@"; do
                tries=$((tries - 1))
                [ $tries -le 0 ] && return 1
                sleep 0.1
        done
        return 0
}

serrord_answers() {
        serrorctl status >/dev/null 2>&1
}

# Starts serrord on the guest's system bus (which /init started) and waits until it answers.
serrord_start() {
        if [ ! -S /run/dbus/system_bus_socket ]; then
                say "ERROR no system bus"
                return 1
        fi
        serrord --log-target=stderr --config=/etc/serror/serrord.conf --attach-socket=$ATTACH_SOCKET \
                >/tmp/serrord.log 2>&1 &
        SERRORD_PID=$!
        if ! wait_until 300 serrord_answers; then
                say "ERROR serrord did not answer on the bus"
                return 1
        fi
        step "serrord $SERRORD_PID answers: $(serrorctl --version 2>&1 | head -n 1)"
}

serrord_alive() {
        [ -n "$SERRORD_PID" ] && kill -0 "$SERRORD_PID" 2>/dev/null
}

# serrord_fds: how many fds serrord holds now.
serrord_fds() {
        ls "/proc/$SERRORD_PID/fd" | wc -l
}

serrord_fds_at_most() {
        [ "$(serrord_fds)" -le "$1" ]
}

# serrord_cpu_ticks: serrord's utime + stime so far, in clock ticks (/proc/PID/stat
# fields 14 and 15; the command name in field 2 has no spaces).
serrord_cpu_ticks() {
        local stat
        read -r stat <"/proc/$SERRORD_PID/stat"
        # shellcheck disable=SC2086
        set -- $stat
        shift 13
        echo $(($1 + $2))
}

# serrord_cpu_ns: serrord's CPU time so far in nanoseconds (the first field of
# /proc/PID/schedstat; serrord runs one thread), or the ticks times 10 ms where
# the kernel keeps no schedstat.
serrord_cpu_ns() {
        local ns rest
        if read -r ns rest <"/proc/$SERRORD_PID/schedstat" 2>/dev/null; then
                echo "$ns"
        else
                echo $(($(serrord_cpu_ticks) * 10000000))
        fi
}

# serrord_wakeups: serrord's context switches so far, voluntary (it waited) plus
# involuntary (it was preempted).
serrord_wakeups() {
        awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }' "/proc/$SERRORD_PID/status"
}

# ---------------------------------------------------------------- test VMMs
# Each VMM reads commands from a FIFO that this shell holds open on a fd of
# the caller's choosing, and writes its JSON events to /tmp/vmm-NAME.out.

vm_attached() {
        # One VM object per line, then its vcpu count against the wanted one.
        local n
        n=$(serrorctl list --json 2>/dev/null | sed 's/{"name":/\n&/g' | grep -F "{\"name\":\"$1\"," |
                grep -o '"index":' | wc -l)
        [ "$n" -eq "$2" ]
}

vm_detached() {
        ! serrorctl list --json 2>/dev/null | grep -qF "{\"name\":\"$1\","
}

# vmm_start NAME FD VCPUS [OPTION...]: starts serror-test-vmm attached to
# serrord, waits for its ready event and for serrord to list every vcpu.
vmm_start() {
        local name=$1 fd=$2 vcpus=$3
        shift 3
        rm -f "/tmp/vmm-$name.in" "/tmp/vmm-$name.out"
        mkfifo "/tmp/vmm-$name.in"
        serror-test-vmm --attach=$ATTACH_SOCKET --name="$name" --vcpus="$vcpus" "$@" \
                <"/tmp/vmm-$name.in" >"/tmp/vmm-$name.out" 2>>"/tmp/vmm-$name.err" &
        echo $! >"/tmp/vmm-$name.pid"
        echo "$fd" >"/tmp/vmm-$name.fd"
        eval "exec $fd>/tmp/vmm-$name.in"
        step "started VMM $name (pid $(cat "/tmp/vmm-$name.pid")): --vcpus=$vcpus $*"
        if ! vmm_wait "$name" '"event":"ready"' 1 600; then
                say "ERROR VMM $name did not become ready"
                return 1
        fi
        if ! wait_until 300 vm_attached "$name" "$vcpus"; then
                say "ERROR VMM $name did not attach its $vcpus vcpus"
                return 1
        fi
}

# vmm_nice_vcpus NAME INCREMENT: lowers the priority of the VMM's vcpu
# threads only (their tids are in its ready event). The guest has one
# emulated CPU and the test guests spin: this keeps the agent, serrord and
# the clients from being starved by vcpu threads that, on a real host, would
# have CPUs of their own.
vmm_nice_vcpus() {
        local tid
        for tid in $(grep -F '"event":"ready"' "/tmp/vmm-$1.out" | grep -o '"tid":[0-9]*' | sed 's/.*://'); do
                renice -n "$2" -p "$tid" >/dev/null || say "ERROR renice $tid of $1 failed"
        done
}

vmm_pid() {
        cat "/tmp/vmm-$1.pid"
}

# vmm_send NAME COMMAND...: one line on the VMM's stdin.
vmm_send() {
        local name=$1 fd
        shift
        fd=$(cat "/tmp/vmm-$name.fd")
        eval "echo \"\$*\" >&$fd"
}

# vmm_stop NAME: quit, reap, close its FIFO.
vmm_stop() {
        local name=$1 fd
        fd=$(cat "/tmp/vmm-$name.fd")
        vmm_send "$name" quit
        wait "$(vmm_pid "$name")"
        say "VAL $name-exit-status $?"
        eval "exec $fd>&-"
}

vmm_lines() {
        wc -l <"/tmp/vmm-$1.out"
}

vmm_count() {
        grep -cF "$2" "/tmp/vmm-$1.out"
}

# vmm_wait NAME PATTERN N TENTHS: until N event lines contain PATTERN.
vmm_wait() {
        local name=$1 pattern=$2 n=$3 tries=$4
        while [ "$(vmm_count "$name" "$pattern")" -lt "$n" ]; do
                tries=$((tries - 1))
                [ $tries -le 0 ] && return 1
                sleep 0.1
        done
        return 0
}

# vmm_serrors NAME: SErrors the guest of NAME has reported so far.
vmm_serrors() {
        vmm_count "$1" '"event":"serror"'
}

# vmm_events NAME FROM TAG: every event after line FROM, tagged for the host.
vmm_events() {
        sed -n "$(($2 + 1)),\$p" "/tmp/vmm-$1.out" | sed "s/^/E2E:EV $3 /"
}

# vmm_status NAME TAG: the VMM's vcpu counters, reported as VAL TAG.
vmm_status() {
        local n
        n=$(vmm_count "$1" '"event":"status"')
        vmm_send "$1" status
        vmm_wait "$1" '"event":"status"' $((n + 1)) 100
        say "VAL $2 $(grep -F '"event":"status"' "/tmp/vmm-$1.out" | tail -n 1)"
}

# vmm_mask NAME mask|unmask VCPU: and wait until the guest applied it.
vmm_mask() {
        local n
        n=$(vmm_count "$1" "\"event\":\"$2\",\"vcpu\":$3,")
        vmm_send "$1" "$2" "$3"
        vmm_wait "$1" "\"event\":\"$2\",\"vcpu\":$3," $((n + 1)) 100 ||
                say "ERROR $1: vcpu $3 did not $2"
}

# ---------------------------------------------------------------- serrorctl

# inject TAG ARGS...: serrorctl inject --json ARGS, reported as INJ TAG.
inject() {
        local tag=$1 out rc
        shift
        out=$(serrorctl inject --json --timeout="$INJECT_TIMEOUT" "$@" 2>/tmp/inject.err)
        rc=$?
        say "INJ $tag rc=$rc ${out:-null}"
        if [ -s /tmp/inject.err ]; then
                sed "s/^/E2E:VAL $tag-stderr /" /tmp/inject.err
        fi
        return 0
}

# policy_finished NAME: serrorctl policy list shows NAME finished.
policy_finished() {
        # The guest has no jq: NAME STATE SEED SENT ... columns.
        [ "$(serrorctl policy list --no-legend 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }')" = finished ]
}

# history_wait VM ID TAG: waits until request ID of VM has its outcome and
# reports that record as VAL TAG.
history_has() {
        serrorctl history --json --vm="$1" 2>/dev/null | grep -q "{\"id\":$2,"
}
history_wait() {
        if ! wait_until 200 history_has "$1" "$2"; then
                say "VAL $3 null"
                return 1
        fi
        say "VAL $3 $(serrorctl history --json --vm="$1" | sed 's/},{"id":/}\n{"id":/g' | sed 's/^\[//; s/\]$//' |
                grep -F "{\"id\":$2,")"
}

# ---------------------------------------------------------------- the end

# logs_dump: serrord's log and every VMM's stderr, for the host's log.
logs_dump() {
        local f
        for f in /tmp/serrord.log /tmp/vmm-*.err; do
                [ -s "$f" ] && sed "s|^|E2E:LOG $(basename "$f") |" "$f"
        done
        return 0
}
