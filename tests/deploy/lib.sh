# Host side of the deployment tier: boots the prepared image with systemd-nspawn and runs one guest test in it; sourced.
#
# tests/deploy/prepare has built the image and the staging tree (its status
# file says whether the tier can run). deploy_run NAME boots a throw-away
# container (--volatile=overlay) with these folders bound in:
#   /mnt/share    tests/deploy/guest (the guest scripts), read-only
#   /mnt/stage    `make install DESTDIR=` output, read-only
#   /mnt/helpers  attach-client and, when built, the test VMM, read-only
#   /mnt/results  this test's output folder
#   /mnt/debs     $DEPLOY_DEBS, when set (make check-debs): the guest then
#                 installs these Debian packages instead of the staging tree
# and returns the guest script's exit status: 0 pass, 77 skip, other fail.

: "${abs_top_srcdir:?run through make check}"
DEPLOY_BUILD=${DEPLOY_BUILD:?run through make check}
DEPLOY_TIMEOUT=${DEPLOY_TIMEOUT:-180}

deploy_log() {
        echo "$(basename "$0"): $*"
}

# Exit 77 or 99 unless prepare said the tier can run.
deploy_require() {
        local status
        status=$(cat "$DEPLOY_BUILD/status" 2>/dev/null) || {
                deploy_log "ERROR: tests/deploy/prepare did not run (run the tier through make check)"
                exit 99
        }
        case $status in
        ok) ;;
        skip:*)
                deploy_log "SKIP:${status#skip:}"
                exit 77 ;;
        *)
                deploy_log "ERROR: ${status#error: }"
                for log in "$DEPLOY_BUILD"/mkimage.log "$DEPLOY_BUILD"/build.log; do
                        [ -s "$log" ] && { echo "--- tail of $log"; tail -n 30 "$log"; }
                done
                exit 99 ;;
        esac
}

# The host's /dev/kvm must come out of a run exactly as it went in.
deploy_kvm_state() {
        stat -c '%U:%G %a' /dev/kvm 2>/dev/null || echo absent
}

# deploy_run NAME: boots the image and runs guest/NAME.guest in it.
deploy_run() {
        local name=$1 results machine rc kvm_before kvm_after start
        deploy_require
        results=$DEPLOY_BUILD/results/$name
        rm -rf "$results"
        mkdir -p "$results"
        echo "$name" >"$results/test"
        # Unique per run: several containers may boot from the image at once.
        machine=serror-$name-$$
        kvm_before=$(deploy_kvm_state)
        start=$(date +%s.%N)
        rc=0
        set --
        [ -n "${DEPLOY_DEBS:-}" ] && set -- --bind-ro="$DEPLOY_DEBS:/mnt/debs"
        # SIGTERM on timeout, never SIGKILL: a killed nspawn orphans its container.
        timeout -s TERM -k 30 "$DEPLOY_TIMEOUT" systemd-nspawn -q -D "$DEPLOY_BUILD/image/rootfs" -b \
                --volatile=overlay --register=no --keep-unit --console=read-only --private-network \
                -M "$machine" \
                --bind-ro="$abs_top_srcdir/tests/deploy/guest:/mnt/share" \
                --bind-ro="$DEPLOY_BUILD/stage:/mnt/stage" \
                --bind-ro="$DEPLOY_BUILD/helpers:/mnt/helpers" \
                --bind="$results:/mnt/results" "$@" \
                -- systemd.show_status=no >"$results/console.log" 2>&1 || rc=$?
        kvm_after=$(deploy_kvm_state)
        cat "$results/output" 2>/dev/null
        awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "container run: %.1f s\n", b - a }'
        if [ "$kvm_before" != "$kvm_after" ]; then
                deploy_log "FAIL: the host's /dev/kvm changed from $kvm_before to $kvm_after during the run"
                return 1
        fi
        if [ ! -f "$results/rc" ]; then
                deploy_log "FAIL: the container did not run the test (nspawn exit status $rc); its console:"
                tail -n 40 "$results/console.log"
                return 1
        fi
        if [ "$(cat "$results/rc")" != "$rc" ]; then
                deploy_log "FAIL: the guest said $(cat "$results/rc") but nspawn exited with $rc"
                return 1
        fi
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$results/journal.txt" ]; then
                echo "--- the container's journal (serrord, dbus, systemd), last 60 lines"
                tail -n 60 "$results/journal.txt"
        fi
        return "$rc"
}
