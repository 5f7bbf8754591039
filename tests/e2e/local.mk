# tests/e2e: the arm64 tier, arm64 KVM under QEMU (DOMAIN.md section 6), and the x86 tier, x86 KVM on
# SVM emulated by QEMU (section 8), included from Makefile.am.
#
# Each test skips when the tools are missing: tests/e2e/setup-host installs
# them. Downloads and generated files go to $(E2E_BUILD), default
# tests/e2e/build in the build tree: the guest packages (cache/), the arm64
# cross-build of the whole project (cross/, reused while the sources are
# unchanged) and each test's work folder; `make clean-e2e` removes it.
#
# tests/e2e/arm64-tier and tests/e2e/bats-tier have no file extension on
# purpose: Automake then runs them with LOG_DRIVER, the TAP driver, and
# reports each of their scenarios. bats-tier runs the BATS files that need
# real vcpus inside arm64 KVM, on every host, /dev/kvm or not.
# vmm-selftest.sh uses the plain driver (TEST_EXTENSIONS has .sh).

e2e_tests = tests/e2e/vmm-selftest.sh tests/e2e/arm64-tier tests/e2e/bats-tier
x86_tests = tests/e2e/x86-bats-tier

TESTS += $(e2e_tests) $(x86_tests)
EXTRA_DIST += $(e2e_tests) $(x86_tests) \
	tests/e2e/lib.sh \
	tests/e2e/setup-host \
	tests/e2e/fetch-guest \
	tests/e2e/mkinitramfs \
	tests/e2e/run-guest \
	tests/e2e/vmm-selftest.guest \
	tests/e2e/cross-build \
	tests/e2e/mkserror-initramfs \
	tests/e2e/mkl2-initramfs \
	tests/e2e/guest-lib.sh \
	tests/e2e/arm64-tier.guest \
	tests/e2e/bats-tier.guest \
	tests/e2e/mktools-initramfs \
	tests/e2e/demo.guest

check-arm64:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(e2e_tests)'

# Only the BATS files in arm64 KVM.
check-arm64-bats:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='tests/e2e/bats-tier'

check-x86:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(x86_tests)'

# The tier's older name.
check-e2e: check-arm64

clean-e2e:
	-rm -rf $(abs_top_builddir)/tests/e2e/build $(abs_top_builddir)/tests/e2e/build-x86_64

.PHONY: check-arm64 check-arm64-bats check-x86 check-e2e clean-e2e
