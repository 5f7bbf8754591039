# Shared settings for the arm64 e2e scripts; sourced, never run.
#
# Everything generated or downloaded lives under E2E_BUILD, outside the
# tracked files: by default tests/e2e/build in the build tree (make exports
# abs_top_builddir), or in the current directory when run by hand.
#   E2E_BUILD   work folder (default $abs_top_builddir/tests/e2e/build)
#   E2E_CACHE   downloaded guest pieces, kept between runs (default $E2E_BUILD/cache)
#   E2E_TIMEOUT seconds a guest may run before the host kills QEMU (default 300)

E2E_BUILD=${E2E_BUILD:-${abs_top_builddir:-$PWD}/tests/e2e/build}
E2E_CACHE=${E2E_CACHE:-$E2E_BUILD/cache}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
E2E_TRIPLET=aarch64-linux-gnu
# The tag the guest puts in front of every line the host reads.
E2E_TAG=E2E:

e2e_log() {
        echo "$(basename "$0"): $*" >&2
}

e2e_die() {
        e2e_log "$*"
        exit 1
}

# Seconds since the epoch with milliseconds, for timings.
e2e_now() {
        date +%s.%3N
}

# e2e_elapsed START: seconds since START, with one decimal.
e2e_elapsed() {
        awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.1f", b - a }'
}
