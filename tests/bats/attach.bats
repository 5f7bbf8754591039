#!/usr/bin/env bats
# The attach socket: registry, lifecycle, every bad input, limits and access. What needs no vcpu
# (framing, HELLO, plain fds such as files, sockets and /dev/null, limits, access, lifecycle of a VM
# with no vcpus) runs on every host; what needs real vcpu fds calls require_kvm and runs in arm64 KVM
# where this host has no /dev/kvm.

load helpers

CLIENT="$abs_top_builddir/tests/helpers/attach-client"

setup_file() {
        serror_shared_setup_file
}

teardown_file() {
        serror_shared_teardown_file
}

setup() {
        serror_shared_setup
}

teardown() {
        # Close every holder this test opened; the next test starts from nothing.
        for fd in 4 5 6; do eval "exec $fd>&-" 2>/dev/null || true; done
        wait_until 30 vm_count_is 0 || true
}

serrord_fds() {
        ls "/proc/$SERRORD_PID/fd" | wc -l
}

# own_daemon NAME CONF: stop the file's shared serrord and start one with
# serrord.conf CONF in a new directory $dir, its socket $SOCK open to all.
own_daemon() {
        dir=$(mktemp -d "/tmp/serror-$1.XXXXXX")
        chmod 755 "$dir"
        printf '%b' "$2" >"$dir/serrord.conf"
        serror_daemon_stop "$SERROR_DIR"
        serror_daemon_start "$dir" --attach-socket="$dir/attach.sock"
        SOCK="$dir/attach.sock"
        chmod 0777 "$SOCK"
}

# shared_daemon_back: own_daemon's serrord goes, the file's shared one comes back.
shared_daemon_back() {
        serror_daemon_stop "$dir"
        rm -rf "$dir"
        serror_daemon_start "$SERROR_DIR" --attach-socket="$(cat "$BATS_FILE_TMPDIR/sockdir")/attach.sock"
}

# vcpus_here N: N where real vcpus can be made, else 0 (the VM is attached with no vcpus:
# its connection and pidfd still come and go).
vcpus_here() {
        if have_kvm; then echo "$1"; else echo 0; fi
}

# Start a client that attaches $2 real vcpus as VM $1 and holds them until
# fd $3 (4, 5 or 6) is closed. Leaves its pid in HOLDER_PID.
hold_vm() {
        local name=$1 n=$2 fd=$3
        mkfifo "$BATS_TEST_TMPDIR/$name.in"
        "$CLIENT" "$SOCK" attach "$name" "$n" <"$BATS_TEST_TMPDIR/$name.in" >"$BATS_TEST_TMPDIR/$name.out" 2>&1 3>&- &
        HOLDER_PID=$!
        eval "exec $fd>\"$BATS_TEST_TMPDIR/$name.in\""
        wait_until 50 bash -c "[ \$(grep -c ' 0 OK ' '$BATS_TEST_TMPDIR/$name.out') -ge $((n + 1)) ]" || {
                cat "$BATS_TEST_TMPDIR/$name.out" >&2
                return 1
        }
}

@test "attach 3 vcpus: list shows them, status counts them; closing detaches and frees every fd" {
        require_kvm
        before=$(serrord_fds)
        hold_vm vm-a 3 4
        run serrorctl list
        assert_success
        assert_line --index 0 --regexp '^NAME +UUID +PID +ARCH +VCPUS +SINCE +LABELS$'
        assert_line --regexp "^vm-a +- +$HOLDER_PID +$(uname -m | sed s/aarch64/arm64/) +0-2 .* role=test-client\$"
        assert_line "1 VM, 3 vcpus attached."
        run serrorctl list --json
        assert_success
        [ "$(jq -r '.[0].name' <<<"$output")" = vm-a ]
        [ "$(jq -r '.[0].pid' <<<"$output")" = "$HOLDER_PID" ]
        [ "$(jq -r '.[0].labels.role' <<<"$output")" = test-client ]
        [ "$(jq -c '[.[0].vcpus[].index]' <<<"$output")" = "[0,1,2]" ]
        [ "$(jq -r '.[0].vcpus[0].tid' <<<"$output")" = "$HOLDER_PID" ]
        [ "$(jq -r '.[0].vcpus[0].kick_signal' <<<"$output")" = 10 ]
        run serrorctl status --json
        [ "$(jq -r .attached_vms <<<"$output")" = 1 ]
        [ "$(jq -r .attached_vcpus <<<"$output")" = 3 ]
        # serrord holds exactly the three vcpu fds and the connection's socket and pidfd.
        [ "$(serrord_fds)" -eq $((before + 5)) ]
        ls -l "/proc/$SERRORD_PID/fd" | grep -c 'anon_inode:kvm-vcpu' | grep -qx 3

        exec 4>&-
        wait_until 10 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
}

@test "a SIGKILLed VMM is detached within a second and its fds closed" {
        before=$(serrord_fds)
        hold_vm vm-kill "$(vcpus_here 2)" 4
        kill -KILL "$HOLDER_PID"
        wait_until 10 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
        grep -q "VM vm-kill (pid $HOLDER_PID) detached" "$SERROR_DIR/serrord.log"
}

@test "two VMMs at once, and a VM name can only be attached once" {
        hold_vm vm-one "$(vcpus_here 1)" 4
        hold_vm vm-two "$(vcpus_here 2)" 5
        run serrorctl list --json
        [ "$(jq -c '[.[].name] | sort' <<<"$output")" = '["vm-one","vm-two"]' ]
        run "$CLIENT" "$SOCK" hello vm-one
        assert_output --partial "EEXIST a VM named vm-one is already attached"
}

# check SCENARIO TEXT: the client's answer to SCENARIO contains TEXT.
check() {
        run "$CLIENT" "$SOCK" "$1"
        assert_success
        assert_output --partial "$2"
}

@test "every bad input without a vcpu gets a clear error, the daemon stays up and leaks no fd" {
        before=$(serrord_fds)
        refused=$(serrorctl status --json | jq '.counters["attach-refused"]')
        check regular-file-fd "ENOTTY vcpu 0 refused: the fd is not a KVM object (/etc/passwd)"
        check socket-fd "ENOTTY vcpu 0 refused: the fd is not a KVM object (socket:"
        check memfd-fd "ENOTTY vcpu 0 refused: the fd is not a KVM object (/memfd:kvm-vcpu:0 (deleted))"
        check attach-before-hello "ENOTCONN send HELLO before VCPU_ATTACH"
        check hello-twice "EALREADY HELLO was already accepted on this connection"
        check many-fds "EBADF too many fds: a VCPU_ATTACH carries 1"
        check fd-on-hello "EBADF HELLO carries 0 fd(s), got 1"
        check no-fd "EBADF VCPU_ATTACH carries 1 fd(s), got 0"
        check oversized "EMSGSIZE message larger than 4096 bytes refused"
        check truncated "EBADMSG header says 4 payload bytes, the message has 2"
        check unknown-type "EOPNOTSUPP unknown message type 99"
        check inject-from-agent "EBADMSG INJECT is sent by serrord, not by agents"
        check short "EMSGSIZE message of 10 bytes is shorter than the 24-byte header"
        run "$CLIENT" "$SOCK" short
        assert_line --index 1 --partial "0 OK attached as client-vm"
        check bad-magic "closed"
        check detach-unknown "ENOENT vcpu 7 is not attached"
        check bye-empty "0 OK bye"
        kill -0 "$SERRORD_PID"
        wait_until 10 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
        run serrorctl status --json
        assert_success
        [ "$(jq -r '.counters["attach-refused"]' <<<"$output")" -ge $((refused + 13)) ]
}

@test "every bad input with a vcpu gets a clear error, the daemon stays up and leaks no fd" {
        require_kvm
        before=$(serrord_fds)
        refused=$(serrorctl status --json | jq '.counters["attach-refused"]')
        check kvm-fd "ENOTTY vcpu 0 refused: the fd is /dev/kvm, not a vcpu"
        check vm-fd "ENOTTY vcpu 0 refused: the fd is a KVM VM, not a vcpu (anon_inode:kvm-vm)"
        check wrong-index "EINVAL vcpu 3 refused: the fd is vcpu 0, but VCPU_ATTACH claims vcpu 3"
        check same-vcpu-twice "EEXIST vcpu 0 of client-vm is already attached"
        check uncaught-signal "EINVAL the VMM does not handle signal 12"
        check foreign-thread "ESRCH thread 1 is not a thread of the VMM"
        check foreign-vcpu "EXDEV vcpu 0 refused: the fd is a vcpu of another process"
        check bye "0 OK bye"
        kill -0 "$SERRORD_PID"
        wait_until 10 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
        run serrorctl status --json
        assert_success
        [ "$(jq -r '.counters["attach-refused"]' <<<"$output")" -ge $((refused + 7)) ]
}

@test "a peer whose uid is not allowed is refused with the reason" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        chmod 0777 "$SOCK"
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$CLIENT" "$SOCK" hello nobody-vm
        chmod 0600 "$SOCK"
        assert_output --partial "0 13 EACCES uid 65534 is not allowed to attach VMs"
        vm_count_is 0
        grep -q "Refused an agent: pid [0-9]* (attach-client), uid 65534 is not allowed" "$SERROR_DIR/serrord.log"
}

@test "detach: the operator forgets a VM; the agent is told not to reconnect" {
        before=$(serrord_fds)
        hold_vm vm-detach "$(vcpus_here 2)" 4
        run serrorctl detach vm-detach
        assert_success
        wait_until 10 vm_count_is 0
        [ "$(serrord_fds)" -eq "$before" ]
        wait_until 20 grep -q "ECONNABORTED detached by the operator" "$BATS_TEST_TMPDIR/vm-detach.out"
        run serrorctl detach vm-detach
        assert_failure 4
        assert_output "serrorctl: no VM 'vm-detach' is attached (see serrorctl list)."
}

@test "detach needs root or the control group" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        hold_vm vm-guarded "$(vcpus_here 1)" 4
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SERRORCTL" detach vm-guarded
        assert_failure 5
        assert_output --partial "permission denied"
        vm_count_is 1
        # Reading is open to everyone.
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$SERRORCTL" list --json
        assert_success
        [ "$(jq -r '.[0].name' <<<"$output")" = vm-guarded ]
}

@test "VMAttached and VMDetached signals" {
        dbus-monitor --system "type='signal',interface='org.serror.serror1.Manager'" >"$BATS_TEST_TMPDIR/monitor" 2>&1 3>&- &
        monitor=$!
        sleep 0.5
        hold_vm vm-signal "$(vcpus_here 1)" 4
        exec 4>&-
        wait_until 10 vm_count_is 0
        sleep 0.3
        kill "$monitor"
        run cat "$BATS_TEST_TMPDIR/monitor"
        assert_output --regexp 'member=VMAttached'
        assert_output --regexp 'member=VMDetached'
        assert_output --partial 'string "vm-signal"'
        # Whichever the daemon notices first: the socket closing or the process exiting.
        assert_output --regexp 'string "(connection closed|the VMM process exited)"'
}

@test "limits: vcpus per VM, VMs per user, connections" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        own_daemon limits '[Attach]\nMaxVcpusPerVM=2\nMaxVMsPerUser=1\nMaxConnections=3\nAllowUsers=65534\n'
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

        if have_kvm; then
                run "$CLIENT" "$SOCK" attach three-vcpus 3 </dev/null
                assert_line --index 3 --partial "EDQUOT three-vcpus already has 2 vcpus attached (MaxVcpusPerVM=)"
        fi

        mkfifo "$dir/n1" "$dir/c2" "$dir/c3"
        nobody "$CLIENT" "$SOCK" attach nobody-1 0 <"$dir/n1" >"$dir/n1.out" 2>&1 3>&- &
        exec 4>"$dir/n1"
        wait_until 50 grep -q " 0 OK " "$dir/n1.out"
        run nobody "$CLIENT" "$SOCK" hello nobody-2
        assert_output --partial "EDQUOT uid 65534 already has 1 VMs attached (MaxVMsPerUser=)"
        run "$CLIENT" "$SOCK" hello root-is-not-limited
        assert_output --partial "0 OK attached as root-is-not-limited"

        "$CLIENT" "$SOCK" attach conn-2 0 <"$dir/c2" >"$dir/c2.out" 2>&1 3>&- &
        exec 5>"$dir/c2"
        "$CLIENT" "$SOCK" attach conn-3 0 <"$dir/c3" >"$dir/c3.out" 2>&1 3>&- &
        exec 6>"$dir/c3"
        wait_until 50 bash -c "grep -q ' 0 OK ' $dir/c2.out && grep -q ' 0 OK ' $dir/c3.out"
        run "$CLIENT" "$SOCK" hello conn-4
        assert_output --partial "EDQUOT too many agent connections (MaxConnections=)"

        for fd in 4 5 6; do eval "exec $fd>&-"; done
        wait_until 30 vm_count_is 0
        shared_daemon_back
}

@test "a ptrace helper's HELLO (capability PTRACE): root may speak for another live pid, once; nobody may not" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        # uid 65534 may attach its own VMs here, so that only the PTRACE check can refuse it.
        own_daemon ptrace '[Attach]\nAllowUsers=65534\n'
        sleep 600 </dev/null >/dev/null 2>&1 3>&- &
        target=$!

        # Each client holds its connection for half a second after the answer
        # and prints anything else serrord sent: a refused HELLO attaches nothing.
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$CLIENT" "$SOCK" ptrace-hello by-nobody "$target" < <(sleep 0.5)
        assert_output --regexp "^1 1 EPERM HELLO speaks for pid $target by ptrace \(capability PTRACE\), which needs root or CAP_SYS_PTRACE; pid [0-9]+ \(uid 65534\) has neither\$"
        run "$CLIENT" "$SOCK" ptrace-hello by-self self < <(sleep 0.5)
        assert_output --regexp "^1 22 EINVAL HELLO has capability PTRACE but speaks for its own pid [0-9]+\$"
        run "$CLIENT" "$SOCK" ptrace-hello for-nobody 2147483646 < <(sleep 0.5)
        assert_output "1 3 ESRCH HELLO speaks for pid 2147483646, which does not exist"
        vm_count_is 0

        mkfifo "$dir/h.in"
        "$CLIENT" "$SOCK" ptrace-hello for-sleep "$target" <"$dir/h.in" >"$dir/h.out" 2>&1 3>&- &
        exec 4>"$dir/h.in"
        wait_until 50 grep -q " 0 OK attached as for-sleep" "$dir/h.out"
        run serrorctl list --json
        [ "$(jq -r '.[] | select(.name == "for-sleep") | .pid' <<<"$output")" = "$target" ]
        grep -q "VM for-sleep attached: pid $target (sleep) through the ptrace helper pid [0-9]* (attach-client)" "$dir/serrord.log"
        run "$CLIENT" "$SOCK" ptrace-hello again "$target" < <(sleep 0.5)
        assert_output "1 17 EEXIST pid $target is already attached as VM for-sleep"

        exec 4>&-
        wait_until 30 vm_count_is 0
        kill "$target"
        shared_daemon_back
}

@test "attach --pid: usage, no such process, a process without vcpus, one that may not be traced" {
        run serrorctl attach
        assert_failure 2
        assert_output "serrorctl: attach needs --pid=PID: the VMM to attach"
        run serrorctl attach --pid=abc
        assert_failure 2
        assert_output "serrorctl: invalid --pid 'abc': expected a process id"
        run serrorctl attach --pid=2147483646
        assert_failure 4
        assert_output "serrorctl: cannot attach pid 2147483646: no process 2147483646: No such process"
        sleep 600 </dev/null >/dev/null 2>&1 3>&- &
        target=$!
        run serrorctl attach --pid="$target"
        assert_failure 4
        assert_output "serrorctl: cannot attach pid $target: pid $target holds no KVM vcpu: not a VMM, or its VM has no vcpus yet"
        if command -v setpriv >/dev/null; then
                # Copies nobody can run wherever the build tree is (a clone in a 0700 directory).
                helper_dir=$(mktemp -d /tmp/serror-helper.XXXXXX)
                chmod 755 "$helper_dir"
                cp "$SERROR_ATTACH_PID_HELPER" "$SERRORCTL" "$helper_dir/"
                run setpriv --reuid=65534 --regid=65534 --clear-groups \
                        env SERROR_ATTACH_PID_HELPER="$helper_dir/serror-attach-pid" "$helper_dir/serrorctl" attach --pid="$target"
                rm -rf "$helper_dir"
                assert_failure 5
                assert_output --partial "cannot look at the fds of pid $target: Permission denied (attaching needs root or CAP_SYS_PTRACE)"
        fi
        run serrorctl attach --pid="$target" --helper-log=/nonexistent/dir/log
        assert_failure 1
        assert_output --partial "cannot open --helper-log /nonexistent/dir/log: No such file or directory"
        kill "$target"
        vm_count_is 0
}

@test "a VM name shaped like a UUID is refused: it could capture another VM's detach and inject" {
        # The agent library refuses to send it; serrord refuses it when sent anyway.
        run "$CLIENT" "$SOCK" hello 6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a
        assert_failure 1
        assert_output --partial "has the shape of a UUID; send it as the UUID instead"
        run "$CLIENT" "$SOCK" hello-raw-name 6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a
        assert_output --partial "EBADMSG VM name '6b1e8c1a-2f0d-4c57-9a3e-0d1f2e3c4b5a' has the shape of a UUID"
        vm_count_is 0
        run "$CLIENT" "$SOCK" hello not-a-uuid-6b1e8c1a
        assert_output --partial "0 OK attached as not-a-uuid-6b1e8c1a"
}

@test "detach is final at once, even when the agent does not read: the VM and its fds are gone when the call returns" {
        before=$(serrord_fds)
        n=$(vcpus_here 2)
        mkfifo "$BATS_TEST_TMPDIR/stuck.in"
        # 300 unanswered requests fill the socket: serrord holds replies it cannot send.
        "$CLIENT" "$SOCK" hello-no-read stuck-vm "$n" 300 <"$BATS_TEST_TMPDIR/stuck.in" >"$BATS_TEST_TMPDIR/stuck.out" 2>&1 3>&- &
        exec 4>"$BATS_TEST_TMPDIR/stuck.in"
        wait_until 50 grep -q holding "$BATS_TEST_TMPDIR/stuck.out"
        run serrorctl detach stuck-vm
        assert_success
        # At once: no VM, no vcpu fd.
        run serrorctl list --json
        assert_output "[]"
        [ "$(ls -l "/proc/$SERRORD_PID/fd" | grep -c 'anon_inode:kvm-vcpu')" -eq 0 ]
        grep -q "VM stuck-vm (pid [0-9]*) detached: detached by the operator" "$SERROR_DIR/serrord.log"
        # The socket waits at most a few seconds for the agent to read its notice.
        wait_until 40 bash -c "[ \$(ls /proc/$SERRORD_PID/fd | wc -l) -eq $before ]"
        grep -q "the agent did not read serrord's last notice" "$SERROR_DIR/serrord.log"
        kill -0 "$SERRORD_PID"
}

@test "a connection that sends no HELLO is closed after HelloTimeout=; one uid cannot take every connection" {
        command -v setpriv >/dev/null || skip "setpriv is not installed"
        own_daemon conn '[Attach]\nHelloTimeout=500ms\nMaxConnectionsPerUser=2\nAllowUsers=65534\n'
        pid=$(cat "$dir/serrord.pid")
        before=$(ls "/proc/$pid/fd" | wc -l)
        nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

        # Silent: closed by serrord after about half a second, with a notice.
        run "$CLIENT" "$SOCK" silent
        assert_output --regexp "^0 110 ETIMEDOUT no HELLO in time \(HelloTimeout=\)"
        assert_line --regexp "^closed after [0-9]+ ms$"
        ms=$(sed -n 's/^closed after \([0-9]*\) ms$/\1/p' <<<"$output")
        [ "$ms" -ge 400 ] && [ "$ms" -lt 3000 ] || fail "closed after $ms ms"
        grep -q "sent no HELLO within 0.5 s (HelloTimeout=)" "$dir/serrord.log"

        # Two connections of uid 65534 are held; the third is refused, root still gets in.
        mkfifo "$dir/n1" "$dir/n2"
        nobody "$CLIENT" "$SOCK" attach nobody-1 0 <"$dir/n1" >"$dir/n1.out" 2>&1 3>&- &
        n1=$!
        exec 5>"$dir/n1"
        nobody "$CLIENT" "$SOCK" attach nobody-2 0 <"$dir/n2" >"$dir/n2.out" 2>&1 3>&- 5>&- &
        exec 6>"$dir/n2"
        wait_until 50 bash -c "grep -q ' 0 OK ' $dir/n1.out && grep -q ' 0 OK ' $dir/n2.out"
        run nobody "$CLIENT" "$SOCK" hello nobody-3
        assert_output --partial "EDQUOT too many connections from this uid (MaxConnectionsPerUser=)"
        run "$CLIENT" "$SOCK" hello root-vm
        assert_output --partial "0 OK attached as root-vm"
        # A peer that hung up no longer counts (serrord reaps peers whose EOF it has
        # not read yet before it refuses anyone).
        exec 5>&-
        wait_until 50 bash -c "! kill -0 $n1 2>/dev/null"
        run nobody "$CLIENT" "$SOCK" hello nobody-3
        assert_output --partial "0 OK attached as nobody-3"

        exec 6>&-
        wait_until 30 vm_count_is 0
        wait_until 30 bash -c "[ \$(ls /proc/$pid/fd | wc -l) -eq $before ]"
        shared_daemon_back
}

@test "a peer's command name reaches the log escaped: no terminal escape gets through" {
        ATTACH_CLIENT_COMM=$'evil\e[31m\a' run "$CLIENT" "$SOCK" hello comm-vm
        assert_output --partial "0 OK attached as comm-vm"
        wait_until 20 grep -qF 'VM comm-vm attached: pid' "$SERROR_DIR/serrord.log"
        grep -qF 'VM comm-vm attached: pid' "$SERROR_DIR/serrord.log"
        grep -F 'VM comm-vm attached' "$SERROR_DIR/serrord.log" | grep -qF '(evil\x1b[31m\x07)'
        run grep -c $'\e' "$SERROR_DIR/serrord.log"
        assert_output 0
}

@test "the protocol document holds: a 0-byte record ends the connection; an agent that stops reading is detached" {
        run "$CLIENT" "$SOCK" zero-length zero-vm
        assert_line --index 0 --partial "0 OK attached as zero-vm"
        assert_line --index 1 "closed"
        wait_until 20 grep -q "VM zero-vm (pid [0-9]*) detached: connection closed" "$SERROR_DIR/serrord.log"
        # Far more unread records than the socket and serrord's queue of 64 hold.
        "$CLIENT" "$SOCK" hello-no-read deaf-vm 0 1000 </dev/null >"$BATS_TEST_TMPDIR/deaf.out" 2>&1 3>&- &
        wait_until 100 grep -q "VM deaf-vm (pid [0-9]*) detached: the agent does not read its socket (64 records wait)" \
                "$SERROR_DIR/serrord.log"
        wait_until 30 vm_count_is 0
        kill -0 "$SERRORD_PID"
}

@test "a VMM in its own PID namespace attaches: serrord goes by the kernel's view of it and logs both pids" {
        command -v unshare >/dev/null || skip "unshare is not installed"
        n=$(vcpus_here 2)
        mkfifo "$BATS_TEST_TMPDIR/ns.in"
        # Inside, the client is pid 1, and says so in its HELLO and VCPU_ATTACHes.
        unshare --pid --fork "$CLIENT" "$SOCK" attach ns-vm "$n" <"$BATS_TEST_TMPDIR/ns.in" >"$BATS_TEST_TMPDIR/ns.out" 2>&1 3>&- &
        exec 4>"$BATS_TEST_TMPDIR/ns.in"
        wait_until 50 bash -c "[ \$(grep -c ' 0 OK ' '$BATS_TEST_TMPDIR/ns.out') -ge $((n + 1)) ]" || {
                cat "$BATS_TEST_TMPDIR/ns.out" >&2
                false
        }
        run serrorctl list --json
        pid=$(jq -r '.[] | select(.name == "ns-vm") | .pid' <<<"$output")
        [ "$pid" -gt 1 ]
        # The pid serrord lists is the kernel's (this machine's) view: that process is pid 1 in its namespace.
        [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = 1 ]
        grep -q "VM ns-vm attached: pid $pid (1 in its PID namespace)" "$SERROR_DIR/serrord.log"
        if have_kvm; then
                # The vcpu threads too: listed by their ids here, which are threads of that process.
                for tid in $(jq -r '.[] | select(.name == "ns-vm") | .vcpus[].tid' <<<"$output"); do
                        [ -d "/proc/$pid/task/$tid" ]
                done
        fi
        exec 4>&-
        wait_until 30 vm_count_is 0
}
