/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd-bus inside libev: one ev_io on the bus fd, one ev_timer for sd-bus's own
 * timeouts, and an ev_prepare that dispatches and then refreshes both. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>

#include "clock-util.h"
#include "bus-loop.h"
#include "log.h"
#include "macro.h"

static void bus_loop_refresh(BusLoop *b) {
        uint64_t timeout_usec;
        int events, want, r;

        events = sd_bus_get_events(b->bus);
        if (events < 0) {
                log_error_errno(events, "Failed to read the bus's wanted events: %m");
                b->error = events;
                ev_break(b->loop, EVBREAK_ALL);
                return;
        }
        want = (events & POLLIN ? EV_READ : 0) | (events & POLLOUT ? EV_WRITE : 0);
        if (!ev_is_active(&b->io) || (b->io.events & (EV_READ | EV_WRITE)) != want) {
                ev_io_stop(b->loop, &b->io);
                ev_io_set(&b->io, sd_bus_get_fd(b->bus), want);
                if (want != 0)
                        ev_io_start(b->loop, &b->io);
        }

        /* sd-bus answers with an absolute CLOCK_MONOTONIC time; forgetting it
         * stalls method-call timeouts and the authentication handshake. */
        r = sd_bus_get_timeout(b->bus, &timeout_usec);
        if (r < 0) {
                log_error_errno(r, "Failed to read the bus timeout: %m");
                b->error = r;
                ev_break(b->loop, EVBREAK_ALL);
                return;
        }
        if (timeout_usec == b->timeout_usec && (timeout_usec == UINT64_MAX || ev_is_active(&b->timer)))
                return; /* armed for that already */
        ev_timer_stop(b->loop, &b->timer);
        b->timeout_usec = timeout_usec;
        if (timeout_usec != UINT64_MAX) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                double after = timeout_usec > now ? (double) (timeout_usec - now) / 1e6 : 0.;
                ev_timer_set(&b->timer, after, 0.);
                ev_timer_start(b->loop, &b->timer);
        }
}

static void bus_loop_dispatch(BusLoop *b) {
        for (;;) {
                int r = sd_bus_process(b->bus, NULL);
                if (r == 0)
                        break;
                if (r < 0) {
                        /* The bus went away (dbus-daemon stopped): nothing to serve. */
                        log_error_errno(r, "Lost the bus connection: %m");
                        b->error = r;
                        ev_break(b->loop, EVBREAK_ALL);
                        return;
                }
        }
}

/* Before the loop sleeps. sd_bus_process() is called only when it has something to do: the fd or
 * the timer fired, or messages wait in sd-bus's own queue (a synchronous call reads and keeps
 * the messages that arrive before its reply). Otherwise it would cost a recvmsg() that can only
 * fail with EAGAIN on every wake-up, whatever woke serrord. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents) {
        BusLoop *b = container_of(w, BusLoop, prepare);
        uint64_t queued = 0;

        if (b->woken || sd_bus_get_n_queued_read(b->bus, &queued) < 0 || queued > 0) {
                b->woken = false;
                bus_loop_dispatch(b);
        }
        if (b->error == 0)
                bus_loop_refresh(b);
}

/* Waking up is the io and timer callbacks' whole job: the prepare watcher dispatches. */
static void on_io(struct ev_loop *loop, ev_io *w, int revents) {
        container_of(w, BusLoop, io)->woken = true;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
        BusLoop *b = container_of(w, BusLoop, timer);

        b->woken = true;
        b->timeout_usec = UINT64_MAX; /* spent */
}

int bus_loop_attach(BusLoop *b, struct ev_loop *loop, sd_bus *bus) {
        int fd;

        /* woken: the first pass dispatches whatever came with the connection (its Hello reply). */
        *b = (BusLoop) { .loop = loop, .bus = bus, .woken = true, .timeout_usec = UINT64_MAX };
        fd = sd_bus_get_fd(bus);
        if (fd < 0)
                return fd;
        ev_io_init(&b->io, on_io, fd, EV_READ);
        ev_timer_init(&b->timer, on_timer, 0., 0.);
        ev_prepare_init(&b->prepare, on_prepare);
        ev_prepare_start(loop, &b->prepare);
        ev_io_start(loop, &b->io);
        return 0;
}

void bus_loop_detach(BusLoop *b) {
        if (!b->loop)
                return;
        ev_prepare_stop(b->loop, &b->prepare);
        ev_io_stop(b->loop, &b->io);
        ev_timer_stop(b->loop, &b->timer);
        b->loop = NULL;
}
