# Shared settings for the e2e scripts (a KVM host under QEMU); sourced, never run.
#
# Everything generated or downloaded lives under E2E_BUILD, outside the
# tracked files: by default tests/e2e/build (arm64) or tests/e2e/build-x86_64
# in the build tree (make exports abs_top_builddir), or in the current
# directory when run by hand.
#   E2E_ARCH    the guest's architecture: arm64 (default; DOMAIN.md section 6)
#               or x86_64 (nested SVM under TCG; DOMAIN.md section 8)
#   E2E_BUILD   work folder (default $abs_top_builddir/tests/e2e/build[-x86_64])
#   E2E_CACHE   downloaded guest pieces, kept between runs (default $E2E_BUILD/cache)
#   E2E_TIMEOUT seconds a guest may run before the host kills QEMU (default 300)

E2E_ARCH=${E2E_ARCH:-arm64}
case $E2E_ARCH in
arm64)
        E2E_TRIPLET=aarch64-linux-gnu
        E2E_DEB_ARCH=arm64
        E2E_QEMU=qemu-system-aarch64
        E2E_QEMU_PKG=qemu-system-arm
        E2E_ELF_MACHINE=AArch64
        # KVM is built into Debian's arm64 kernel.
        E2E_KVM_MODULES=
        e2e_build_default=tests/e2e/build
        ;;
x86_64)
        E2E_TRIPLET=x86_64-linux-gnu
        E2E_DEB_ARCH=amd64
        E2E_QEMU=qemu-system-x86_64
        E2E_QEMU_PKG=qemu-system-x86
        E2E_ELF_MACHINE=X86-64
        # TCG emulates AMD SVM, not VMX: kvm-amd, in this order (DOMAIN.md section 8).
        E2E_KVM_MODULES="irqbypass kvm ccp kvm-amd"
        e2e_build_default=tests/e2e/build-x86_64
        ;;
*)
        echo "E2E_ARCH must be arm64 or x86_64, not '$E2E_ARCH'" >&2
        exit 2
        ;;
esac
E2E_BUILD=${E2E_BUILD:-${abs_top_builddir:-$PWD}/$e2e_build_default}
E2E_CACHE=${E2E_CACHE:-$E2E_BUILD/cache}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
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
