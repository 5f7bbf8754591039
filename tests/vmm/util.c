/* Small helpers of the test VMM: the raw ioctl wrapper, JSON event output, clocks. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vmm.h"

int vmm_ioctl(int fd, unsigned long request, void *arg) {
        int r = ioctl(fd, request, arg);
        return r < 0 ? -errno : r;
}

const char *errno_name(int err) {
        const char *n = strerrorname_np(err < 0 ? -err : err);
        return n ? n : "EUNKNOWN";
}

void emit(const char *fmt, ...) {
        va_list ap;

        flockfile(stdout);
        va_start(ap, fmt);
        vfprintf(stdout, fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
        funlockfile(stdout);
}

const char *json_str(char *buf, size_t size, const char *s) {
        size_t n = 0;

        if (size < 3)
                return "\"\"";
        buf[n++] = '"';
        for (; *s && n + 8 < size; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\') {
                        buf[n++] = '\\';
                        buf[n++] = (char) c;
                } else if (c < 0x20) {
                        n += (size_t) snprintf(buf + n, size - n, "\\u%04x", c);
                } else
                        buf[n++] = (char) c;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}

uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

struct timespec realtime_in_ms(unsigned ms) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long) (ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        return ts;
}

uint64_t clock_ns(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}
