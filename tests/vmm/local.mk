# tests/vmm: the test VMM, a real VMM on /dev/kvm for x86_64 and arm64 hosts (included from Makefile.am).
#
# Built for the host the tree is configured for: natively on x86_64, or with
# ./configure --host=aarch64-linux-gnu for the arm64 tier. The guest is
# assembled from guest-<arch>.S into the VMM's read-only data.

tests_vmm_serror_test_vmm_SOURCES = \
	tests/vmm/serror-test-vmm.c \
	tests/vmm/vcpu.c \
	tests/vmm/util.c \
	tests/vmm/vmm.h \
	tests/vmm/guest-layout.h
if HOST_X86_64
tests_vmm_serror_test_vmm_SOURCES += tests/vmm/arch-x86_64.c tests/vmm/guest-x86_64.S
endif
if HOST_AARCH64
tests_vmm_serror_test_vmm_SOURCES += tests/vmm/arch-arm64.c tests/vmm/guest-arm64.S
endif
# vcpu threads, and libserror-agent as any VMM would link it.
tests_vmm_serror_test_vmm_CFLAGS = $(AM_CFLAGS) -pthread
tests_vmm_serror_test_vmm_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_vmm_serror_test_vmm_LDADD = agent/libserror-agent.la

vmm_tests = tests/vmm/vmm-smoke.sh

if SERROR_TEST_VMM
check_PROGRAMS += tests/vmm/serror-test-vmm
TESTS += $(vmm_tests)
endif
EXTRA_DIST += $(vmm_tests)

check-vmm:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(vmm_tests)'

.PHONY: check-vmm
