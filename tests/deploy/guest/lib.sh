# Guest side of the deployment tier: installation, checks and their report; sourced by run-guest.
#
# Each check prints "ok - WHAT" or "not ok - WHAT" (with the evidence);
# guest_finish exits 0 when every check passed, 1 otherwise; guest_skip exits
# 77 with a reason. Timings print as "time - WHAT: N ms".

guest_failed=0
guest_checks=0

now_ms() {
        date +%s%3N
}

ok() {
        guest_checks=$((guest_checks + 1))
        echo "ok - $*"
}

not_ok() {
        guest_checks=$((guest_checks + 1))
        guest_failed=1
        echo "not ok - $*"
}

# check WHAT COMMAND...: runs COMMAND; ok when it succeeds. Its output is shown on failure.
check() {
        local what=$1 out
        shift
        if out=$("$@" 2>&1); then
                ok "$what"
        else
                not_ok "$what"
                [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
        fi
}

note() {
        echo "# $*"
}

guest_skip() {
        echo "SKIP: $*"
        exit 77
}

guest_bail() {
        echo "not ok - $*"
        exit 1
}

guest_finish() {
        if [ "$guest_checks" -eq 0 ]; then
                echo "not ok - the test made no check"
                exit 1
        fi
        exit "$guest_failed"
}

guest_save_journal() {
        journalctl -b --no-pager -o short-monotonic >/mnt/results/journal.txt 2>&1 || true
}

# wait_until TENTHS COMMAND...: polls every 10 ms for up to TENTHS tenths of a second.
wait_until() {
        local deadline=$(($(now_ms) + $1 * 100))
        shift
        while ! "$@" >/dev/null 2>&1; do
                [ "$(now_ms)" -lt "$deadline" ] || return 1
                sleep 0.01
        done
}

# json_test JSON FILTER: true when jq's FILTER holds for JSON.
json_test() {
        printf '%s' "$1" | jq -e "$2" >/dev/null
}

have_kvm() {
        [ -c /dev/kvm ]
}

serrord_pid() {
        systemctl show -p MainPID --value serrord.service
}

serrord_active() {
        [ "$(systemctl is-active serrord.service)" = active ]
}

serrord_inactive() {
        [ "$(systemctl is-active serrord.service)" = inactive ]
}

# Installs serror: the Debian packages in /mnt/debs when there are any (make
# check-debs), else the staged `make install` output, followed by what a
# package's maintainer scripts do (dh_installsysusers, dh_installtmpfiles,
# dh_installsystemd) and a dbus reload once the user exists.
guest_install() {
        local debs
        # A /dev/kvm of the container's own: never the host's node (prepare).
        if [ "$(cat /mnt/helpers/host-has-kvm 2>/dev/null)" = yes ]; then
                mknod -m 0660 /dev/kvm c 10 232 && chgrp kvm /dev/kvm || return 1
        fi
        debs=
        for f in /mnt/debs/*.deb; do
                case $f in *-dbgsym_*|'/mnt/debs/*.deb') ;; *) debs="$debs $f" ;; esac
        done
        if [ -n "$debs" ]; then
                echo "# installing the packages:$debs"
                # shellcheck disable=SC2086
                dpkg -i $debs >/mnt/results/dpkg.log 2>&1 || { cat /mnt/results/dpkg.log; return 1; }
                return 0
        fi
        cp -a /mnt/stage/. / &&
                ldconfig &&
                systemd-sysusers serror.conf &&
                systemd-tmpfiles --create serror.conf &&
                systemctl daemon-reload &&
                systemctl reload dbus.service &&
                systemctl enable --now serrord.socket
}

attach_client() {
        /mnt/helpers/attach-client "$@"
}

# hold_vm NAME [SOCKET]: an agent (attach-client) attaches VM NAME with one
# real vcpu and holds it until release_vm NAME; what serrord sends it meanwhile
# goes to /mnt/results/hold-NAME.out. Needs /dev/kvm.
declare -A hold_fd hold_pid
hold_vm() {
        local name=$1 sock=${2:-/run/serrord/attach.sock} fifo=/run/hold-$1.in fd
        mkfifo "$fifo"
        /mnt/helpers/attach-client "$sock" attach "$name" 1 <"$fifo" >"/mnt/results/hold-$name.out" 2>&1 &
        hold_pid[$name]=$!
        exec {fd}>"$fifo"
        hold_fd[$name]=$fd
        wait_until 30 grep -q "^2 0 OK" "/mnt/results/hold-$name.out"
}

# release_vm NAME: the holding agent exits (its stdin closes).
release_vm() {
        local name=$1 fd=${hold_fd[$1]:-}
        [ -n "$fd" ] || return 0
        exec {fd}>&-
        wait "${hold_pid[$name]}" 2>/dev/null
        unset "hold_fd[$name]" "hold_pid[$name]"
        return 0
}

# For checks that run through bash -c.
export -f now_ms wait_until json_test have_kvm serrord_pid serrord_active serrord_inactive attach_client
