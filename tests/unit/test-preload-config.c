/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for libserror-preload's configuration: QEMU's -name and -uuid, SERROR_VM_NAME, SERROR_VM_LABELS, SERROR_KICK_SIGNAL, and LD_PRELOAD without the preload. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "preload-config.h"
#include "tap.h"

/* A /proc/self/cmdline image from a literal whose arguments are separated by
 * '|'. */
static size_t cmdline(const char *args, char *buf, size_t size) {
        size_t n = strlen(args);

        if (n + 1 > size)
                return 0;
        for (size_t i = 0; i < n; i++)
                buf[i] = args[i] == '|' ? '\0' : args[i];
        buf[n] = '\0';
        return n + 1;
}

static int build(const char *args, const char *env_name, const char *env_labels, const char *env_kick,
                 PreloadConfig *c, serror_diag *diag) {
        static char buf[1024];
        PreloadInputs in = {
                .env_vm_name = env_name,
                .env_labels = env_labels,
                .env_kick = env_kick,
                .pid = 4242,
        };

        if (args) {
                in.cmdline_size = cmdline(args, buf, sizeof buf);
                in.cmdline = buf;
        }
        memset(diag, 0, sizeof *diag);
        return preload_config_build(&in, c, diag);
}

static void test_qemu_name_value(void) {
        static const struct {
                const char *value, *want;
                int r;
        } cases[] = {
                { "vm1", "vm1", 0 },
                { "guest=vm1,debug-threads=on", "vm1", 0 },
                { "vm1,process=qemu-vm1", "vm1", 0 },
                { "debug-threads=on,guest=web-3", "web-3", 0 },
                { "a,,b,debug-threads=on", "a,b", 0 },
                { "guest=", NULL, -ENOENT },
                { "debug-threads=on", NULL, -ENOENT },
                { "", NULL, -ENOENT },
        };
        bool ok = true;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[65] = "";
                int r = preload_qemu_name_value(cases[i].value, buf, sizeof buf);

                if (r != cases[i].r || (r == 0 && strcmp(buf, cases[i].want) != 0)) {
                        tap_diag("\"%s\": got %d \"%s\"", cases[i].value, r, buf);
                        ok = false;
                }
        }
        tap_ok(ok, "-name: guest= or the implied first key, other keys skipped, \",,\" unescaped, empty refused");

        char small[4];
        tap_ok(preload_qemu_name_value("guest=toolong", small, sizeof small) == -ENAMETOOLONG,
               "-name: a name longer than the buffer is -ENAMETOOLONG, not cut");
}

static void test_name_sources(void) {
        PreloadConfig c;
        serror_diag d;
        int r;

        r = build("/usr/bin/qemu-system-aarch64|-M|virt|-name|guest=l2,debug-threads=on|-m|256", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && strcmp(c.vm_name, "l2") == 0 && c.name_source == PRELOAD_NAME_CMDLINE && !c.name_changed,
               "name from QEMU's -name (got %d \"%s\")", r, c.vm_name);

        r = build("qemu|--name|second|-name|third", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && strcmp(c.vm_name, "third") == 0, "the last -name counts, --name spelled too (got \"%s\")",
               c.vm_name);

        r = build("qemu|-name|l2", "from-env", NULL, NULL, &c, &d);
        tap_ok(r == 0 && strcmp(c.vm_name, "from-env") == 0 && c.name_source == PRELOAD_NAME_ENV,
               "SERROR_VM_NAME wins over -name");

        r = build("/usr/bin/qemu-system-aarch64|-M|virt", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && strcmp(c.vm_name, "qemu-system-aarch64-4242") == 0 && c.name_source == PRELOAD_NAME_FALLBACK,
               "no name anywhere: the program's name and pid (got \"%s\")", c.vm_name);

        r = build("qemu|-name", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && c.name_source == PRELOAD_NAME_FALLBACK, "-name as the last argument, with no value: fallback");

        r = build(NULL, NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && strcmp(c.vm_name, "vmm-4242") == 0, "no command line at all: vmm-PID (got \"%s\")", c.vm_name);

        r = build("qemu|-name|guest=web server #1", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && strcmp(c.vm_name, "web_server__1") == 0 && c.name_changed,
               "characters a VM name cannot have become '_' and the change is flagged (got \"%s\")", c.vm_name);

        r = build("qemu|-name|0123456789012345678901234567890123456789012345678901234567890123456789", NULL, NULL,
                  NULL, &c, &d);
        tap_ok(r == 0 && strlen(c.vm_name) == ATTACH_NAME_MAX && c.name_changed, "a name over 64 characters is cut to 64");

        r = build("qemu|-name|6b1e5ac1-0d1f-4a55-9d3e-2f5a8c0b7e11", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && attach_vm_name_is_valid(c.vm_name) && c.name_changed,
               "a -name shaped like a UUID is changed into a valid name (got \"%s\")", c.vm_name);

        r = build("qemu|-name|l2", "bad name!", NULL, NULL, &c, &d);
        tap_ok(r == -EINVAL && strstr(d.message, "SERROR_VM_NAME") && strstr(d.message, "bad name!"),
               "a bad SERROR_VM_NAME is refused, naming the variable: %s", d.message);
}

static void test_uuid(void) {
        static const uint8_t want[16] = { 0x6b, 0x1e, 0x5a, 0xc1, 0x0d, 0x1f, 0x4a, 0x55,
                                          0x9d, 0x3e, 0x2f, 0x5a, 0x8c, 0x0b, 0x7e, 0x11 };
        PreloadConfig c;
        serror_diag d;
        int r;

        r = build("qemu|-name|l2|-uuid|6B1E5AC1-0d1f-4a55-9d3e-2f5a8c0b7e11", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && c.has_uuid && memcmp(c.uuid, want, 16) == 0, "-uuid is read, hex digits in either case");

        r = build("qemu|-uuid|00000000-0000-0000-0000-000000000000", NULL, NULL, NULL, &c, &d);
        tap_ok(r == 0 && !c.has_uuid, "the nil UUID counts as no UUID");

        r = build("qemu|-uuid|6b1e5ac1-0d1f-4a55-9d3e", NULL, NULL, NULL, &c, &d);
        tap_ok(r == -EINVAL && strstr(d.message, "-uuid"), "a malformed -uuid is refused: %s", d.message);

        uint8_t u[16];
        tap_ok(preload_uuid_parse("6b1e5ac1-0d1f-4a55-9d3e-2f5a8c0b7e1g", u) == -EINVAL,
               "a non-hex digit in a UUID is refused");
}

static void test_labels(void) {
        PreloadConfig c;
        serror_diag d;
        int r;

        r = build("qemu|-name|l2", NULL, "rack=r7, role=db\tzone=b", NULL, &c, &d);
        tap_ok(r == 0 && c.n_labels == 3 && strcmp(c.labels[0], "rack=r7") == 0 && strcmp(c.labels[2], "zone=b") == 0 &&
                       c.labels[3] == NULL && c.labels[0] == c.label_text[0],
               "SERROR_VM_LABELS: separated by commas or blanks, NULL-terminated, pointing into the config");

        r = build("qemu", NULL, "rack=r7,rack=r8", NULL, &c, &d);
        tap_ok(r == -EINVAL && strstr(d.message, "rack") && strstr(d.message, "twice"), "a key given twice: %s",
               d.message);

        r = build("qemu", NULL, "noequals", NULL, &c, &d);
        tap_ok(r == -EINVAL && strstr(d.message, "SERROR_VM_LABELS"), "a label without '=': %s", d.message);

        r = build("qemu", NULL, "", NULL, &c, &d);
        tap_ok(r == 0 && c.n_labels == 0 && c.labels[0] == NULL, "an empty SERROR_VM_LABELS is no labels");
}

static void test_kick(void) {
        int sig = 0;
        PreloadConfig c;
        serror_diag d;

        tap_ok(build("qemu", NULL, NULL, NULL, &c, &d) == 0 && c.kick_signal == SIGUSR1,
               "the default kick is SIGUSR1, QEMU's own");
        tap_ok(preload_kick_signal_parse("SIGUSR2", 34, 64, &sig) == 0 && sig == SIGUSR2, "SIGUSR2");
        tap_ok(preload_kick_signal_parse("usr1", 34, 64, &sig) == 0 && sig == SIGUSR1, "usr1, case and SIG optional");
        tap_ok(preload_kick_signal_parse("SIGRTMIN+2", 34, 64, &sig) == 0 && sig == 36, "SIGRTMIN+2 is 36 with glibc");
        tap_ok(preload_kick_signal_parse("SIGRTMAX-1", 34, 64, &sig) == 0 && sig == 63, "SIGRTMAX-1");
        tap_ok(preload_kick_signal_parse("40", 34, 64, &sig) == 0 && sig == 40, "a number");
        tap_ok(preload_kick_signal_parse("SIGKILL", 34, 64, &sig) == -EINVAL &&
                       preload_kick_signal_parse("9", 34, 64, &sig) == -EINVAL &&
                       preload_kick_signal_parse("33", 34, 64, &sig) == -EINVAL &&
                       preload_kick_signal_parse("SIGRTMIN+31", 34, 64, &sig) == -EINVAL &&
                       preload_kick_signal_parse("SIGSEGV", 34, 64, &sig) == -EINVAL &&
                       preload_kick_signal_parse("11", 34, 64, &sig) == -EINVAL,
               "SIGKILL, 9, the C library's 33, past SIGRTMAX, SIGSEGV and 11 are refused");
        tap_ok(build("qemu", NULL, NULL, "SIGFOO", &c, &d) == -EINVAL && strstr(d.message, "SERROR_KICK_SIGNAL"),
               "a bad SERROR_KICK_SIGNAL names the variable: %s", d.message);
}

static void test_ld_preload(void) {
        char buf[256];
        bool removed;

        removed = preload_env_without_self("/usr/lib/x86_64-linux-gnu/serror/libserror-preload.so", buf, sizeof buf);
        tap_ok(removed && buf[0] == '\0', "LD_PRELOAD of only the preload becomes empty");

        removed = preload_env_without_self("libfoo.so:/opt/x/libserror-preload.so /lib/libbar.so", buf, sizeof buf);
        tap_ok(removed && strcmp(buf, "libfoo.so:/lib/libbar.so") == 0, "other entries stay, in order (got \"%s\")", buf);

        removed = preload_env_without_self("/lib/libserror-preload.so.0:/lib/libother.so", buf, sizeof buf);
        tap_ok(removed && strcmp(buf, "/lib/libother.so") == 0, "a suffix after .so still names the preload");

        removed = preload_env_without_self("/lib/libnotserror-preload.so", buf, sizeof buf);
        tap_ok(!removed && strcmp(buf, "/lib/libnotserror-preload.so") == 0,
               "a library whose name only ends like it stays");
}

int main(void) {
        test_qemu_name_value();
        test_name_sources();
        test_uuid();
        test_labels();
        test_kick();
        test_ld_preload();
        return tap_done();
}
