# tests/e2e: the arm64 tier, arm64 KVM under QEMU (DOMAIN.md section 6), included from Makefile.am.
#
# Each test skips (77) when the tools are missing: tests/e2e/setup-host
# installs them. Downloads and generated files go to $(E2E_BUILD), default
# tests/e2e/build in the build tree; `make clean-e2e` removes it.

e2e_tests = tests/e2e/vmm-selftest.sh

TESTS += $(e2e_tests)
EXTRA_DIST += $(e2e_tests) \
	tests/e2e/lib.sh \
	tests/e2e/setup-host \
	tests/e2e/fetch-guest \
	tests/e2e/mkinitramfs \
	tests/e2e/run-guest \
	tests/e2e/vmm-selftest.guest

check-e2e:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(e2e_tests)'

clean-e2e:
	-rm -rf $(abs_top_builddir)/tests/e2e/build

.PHONY: check-e2e clean-e2e
