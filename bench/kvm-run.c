/* serror-bench-kvm-run: times KVM_RUN round trips of a guest that exits at once, and plain ioctls, so that make bench can compare them with and without libserror-preload. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GUEST_BASE 0x10000u
#define GUEST_SIZE 0x10000u

static void usage(FILE *f) {
        fprintf(f, "Usage: serror-bench-kvm-run [-n COUNT] kvm|kvm-immediate|ioctl\n"
                   "  kvm    COUNT KVM_RUN calls on a vcpu whose guest stores to an address with\n"
                   "         no memory behind it, in a loop: each call returns at once with an MMIO\n"
                   "         exit. The process handles SIGUSR1, as QEMU does, so that a preloaded\n"
                   "         agent serves the vcpu.\n"
                   "  kvm-immediate  the same vcpu with kvm_run.immediate_exit set: KVM_RUN fails\n"
                   "         with EINTR without entering the guest, so the call itself, and what\n"
                   "         a preload adds around it, is all that is timed.\n"
                   "  ioctl  COUNT FIONREAD ioctls on a pipe: what every other ioctl of a VMM pays.\n"
                   "Prints \"COUNT NS_PER_CALL\" (after 1000 calls of warm-up). Exit status 77\n"
                   "when /dev/kvm cannot be used.\n");
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void on_kick(int sig) {
        (void) sig;
}

static int die(const char *what) {
        fprintf(stderr, "serror-bench-kvm-run: %s: %s\n", what, strerror(errno));
        return 1;
}

#if defined(__aarch64__)
static int guest_setup(int vm, int vcpu, uint8_t *mem) {
        /* str w0, [x1]; b .-4 with x1 pointing at no memory: an MMIO exit per KVM_RUN. */
        static const uint32_t code[] = { 0xb9000020, 0x17ffffff };
        struct kvm_vcpu_init init;
        uint64_t pc = GUEST_BASE, x1 = 0x100000;
        struct kvm_one_reg regs[] = {
                { KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.pc), (uintptr_t) &pc },
                { KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(regs.regs[1]), (uintptr_t) &x1 },
        };

        memcpy(mem, code, sizeof code);
        if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0 || ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0)
                return -1;
        for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
                if (ioctl(vcpu, KVM_SET_ONE_REG, &regs[i]) < 0)
                        return -1;
        return 0;
}
#define GUEST_EXIT KVM_EXIT_MMIO
#elif defined(__x86_64__)
static int guest_setup(int vm, int vcpu, uint8_t *mem) {
        /* Real mode at GUEST_BASE: out %al, $0x10; jmp .-2. An I/O exit per KVM_RUN. */
        static const uint8_t code[] = { 0xe6, 0x10, 0xeb, 0xfc };
        struct kvm_sregs sregs;
        struct kvm_regs regs = { .rip = 0, .rflags = 2 };

        (void) vm;
        memcpy(mem, code, sizeof code);
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
                return -1;
        sregs.cs.base = GUEST_BASE;
        sregs.cs.selector = GUEST_BASE >> 4;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
                return -1;
        return 0;
}
#define GUEST_EXIT KVM_EXIT_IO
#else
#error "serror-bench-kvm-run knows arm64 and x86_64 guests only"
#endif

static int bench_kvm(unsigned long count, bool immediate) {
        struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = GUEST_BASE, .memory_size = GUEST_SIZE };
        struct sigaction sa = { .sa_handler = on_kick };
        struct kvm_run *run;
        int kvm, vm, vcpu;
        long run_size;
        uint8_t *mem;
        uint64_t t0;

        if (sigaction(SIGUSR1, &sa, NULL) < 0)
                return die("sigaction");
        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0) {
                fprintf(stderr, "serror-bench-kvm-run: /dev/kvm: %s\n", strerror(errno));
                return 77;
        }
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0)
                return die("KVM_CREATE_VM");
        mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                return die("mmap");
        region.userspace_addr = (uintptr_t) mem;
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                return die("KVM_SET_USER_MEMORY_REGION");
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        if (vcpu < 0)
                return die("KVM_CREATE_VCPU");
        run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (run_size < 0)
                return die("KVM_GET_VCPU_MMAP_SIZE");
        run = mmap(NULL, (size_t) run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        if (run == MAP_FAILED)
                return die("mmap of the vcpu");
        if (guest_setup(vm, vcpu, mem) < 0)
                return die("setting up the guest");

        /* One real round trip first: the vcpu joins a preloaded agent at its first KVM_RUN. */
        if (ioctl(vcpu, KVM_RUN, 0) < 0 && errno != EINTR)
                return die("KVM_RUN");
        run->immediate_exit = immediate;
        t0 = 0;
        for (unsigned long i = 0; i < count + 1000; i++) {
                if (i == 1000)
                        t0 = now_ns();
                if (ioctl(vcpu, KVM_RUN, 0) < 0) {
                        if (errno == EINTR)
                                continue;
                        return die("KVM_RUN");
                }
                if (immediate) {
                        fprintf(stderr, "serror-bench-kvm-run: KVM_RUN entered the guest despite immediate_exit\n");
                        return 1;
                }
                if (run->exit_reason != GUEST_EXIT) {
                        fprintf(stderr, "serror-bench-kvm-run: unexpected exit %u\n", run->exit_reason);
                        return 1;
                }
        }
        printf("%lu %.1f\n", count, (double) (now_ns() - t0) / (double) count);
        return 0;
}

static int bench_ioctl(unsigned long count) {
        int p[2], n;
        uint64_t t0 = 0;

        if (pipe(p) < 0)
                return die("pipe");
        for (unsigned long i = 0; i < count + 1000; i++) {
                if (i == 1000)
                        t0 = now_ns();
                if (ioctl(p[0], FIONREAD, &n) < 0)
                        return die("FIONREAD");
        }
        printf("%lu %.1f\n", count, (double) (now_ns() - t0) / (double) count);
        return 0;
}

int main(int argc, char **argv) {
        unsigned long count = 100000;
        int c;

        while ((c = getopt(argc, argv, "hn:")) >= 0) {
                switch (c) {
                case 'n':
                        count = strtoul(optarg, NULL, 10);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind + 1 != argc || count == 0) {
                usage(stderr);
                return 2;
        }
        if (strcmp(argv[optind], "kvm") == 0)
                return bench_kvm(count, false);
        if (strcmp(argv[optind], "kvm-immediate") == 0)
                return bench_kvm(count, true);
        if (strcmp(argv[optind], "ioctl") == 0)
                return bench_ioctl(count);
        usage(stderr);
        return 2;
}
