#!/bin/sh
# e2e: the test VMM's SError self-test inside arm64 KVM under QEMU: syndrome, masking, one report per SError.
#
# Cross-builds tests/vmm/serror-test-vmm for arm64, boots it in the guest of
# DOMAIN.md section 6 with a system bus, and checks the E2E:CHECK lines that
# vmm-selftest.guest prints. Exit status follows Automake's test driver:
# 0 pass, 1 fail, 77 skip (a tool is missing), 99 the harness itself failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

skip() {
        echo "SKIP: $*"
        exit 77
}
hard_error() {
        echo "ERROR: $*"
        exit 99
}

t0=$(e2e_now)

for tool in qemu-system-aarch64 "$E2E_TRIPLET-gcc" "$E2E_TRIPLET-readelf" cpio apt-get dpkg-deb; do
        command -v "$tool" >/dev/null || skip "$tool not found (run tests/e2e/setup-host)"
done
dpkg --print-foreign-architectures | grep -qx arm64 ||
        skip "the arm64 architecture is not configured (run tests/e2e/setup-host)"

work=$E2E_BUILD/vmm-selftest
rm -rf "$work"
mkdir -p "$work" || hard_error "cannot create $work"

# E2E_VMM names an arm64 serror-test-vmm built elsewhere (say by a tree
# configured with --host=aarch64-linux-gnu); otherwise it is cross-built here.
t=$(e2e_now)
if [ -n "${E2E_VMM:-}" ]; then
        cp "$E2E_VMM" "$work/serror-test-vmm" || hard_error "cannot copy E2E_VMM=$E2E_VMM"
else
        # The VMM links libserror-agent; here its sources are compiled in.
        "$E2E_TRIPLET-gcc" -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter -pthread \
                -I"$top/include" -I"$top/lib" -I"$top/agent" -o "$work/serror-test-vmm" \
                "$top/tests/vmm/serror-test-vmm.c" "$top/tests/vmm/vcpu.c" "$top/tests/vmm/util.c" \
                "$top/tests/vmm/arch-arm64.c" "$top/tests/vmm/guest-arm64.S" \
                "$top"/agent/agent*.c "$top"/lib/*.c ||
                hard_error "cross-building the test VMM failed"
fi
t_build=$(e2e_elapsed "$t")

t=$(e2e_now)
"$here/fetch-guest" >/dev/null || hard_error "fetch-guest failed"
t_fetch=$(e2e_elapsed "$t")

t=$(e2e_now)
"$here/mkinitramfs" -o "$work/initrd.gz" --scenario "$here/vmm-selftest.guest" --dbus \
        "$work/serror-test-vmm" || hard_error "mkinitramfs failed"
t_initrd=$(e2e_elapsed "$t")

t=$(e2e_now)
"$here/run-guest" --initrd "$work/initrd.gz" --log "$work/console.log" >"$work/tagged.txt"
guest=$?
t_guest=$(e2e_elapsed "$t")
cat "$work/tagged.txt"

[ "$guest" -eq 77 ] && skip "qemu-system-aarch64 not found"

fail=0
# Every check the scenario makes must be there and pass; a missing line fails
# as surely as a failed one (the scenario may have stopped early).
for name in ready cap-inject-serror-esr \
        inject-1-served inject-1-result inject-1-none-pending-before serror-1-reported serror-1-esr \
        mask-applied inject-2-served inject-2-result inject-2-pending-after masked-guest-ran masked-nothing-reported \
        unmask-applied unmask-one-report serror-2-esr vmm-exit vmm-status no-vcpu-errors \
        never-ready never-kick-signal never-inject-served never-inject-result never-serror-reported \
        never-serror-esr never-vcpu0-no-exits never-vcpu1-kicked never-vmm-exit \
        bus-answers; do
        if ! grep -q "^CHECK $name ok" "$work/tagged.txt"; then
                echo "FAIL: check $name did not pass"
                fail=1
        fi
done
if grep -q "^CHECK .* fail" "$work/tagged.txt"; then
        fail=1
fi
if [ "$guest" -ne 0 ]; then
        echo "FAIL: the guest did not finish cleanly (run-guest status $guest; console: $work/console.log)"
        fail=1
fi

echo "timing: build ${t_build}s, fetch ${t_fetch}s, initramfs ${t_initrd}s, boot and run ${t_guest}s, total $(e2e_elapsed "$t0")s"
[ $fail -eq 0 ] && echo "PASS: vmm-selftest"
exit $fail
