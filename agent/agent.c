/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's public API: options, lifetime, vcpus, the poll-mode and thread-mode loops, logging. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "agent-internal.h"
#include "agent-kvm.h"
#include "reaction.h"

#define DEFAULT_SOCKET_PATH "/run/serrord/attach.sock"

/* Every symbol the version script exports is defined here and marked so;
 * the rest of the library stays hidden even without -fvisibility=hidden. */
#define _public_ __attribute__((__visibility__("default")))

/* ---------------------------------------------------------------- small helpers */

uint64_t agent_now_ns(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return agent_timespec_to_ns(&ts);
}

const char *agent_strerror(int error, char *buf, size_t size) {
        int e = error < 0 ? -error : error;

#if defined(__GLIBC__)
        /* With _GNU_SOURCE glibc gives the variant that returns a string. */
        return strerror_r(e, buf, size);
#else
        if (strerror_r(e, buf, size) != 0)
                (void) snprintf(buf, size, "error %d", e);
        return buf;
#endif
}

const char *agent_errno_name(int error) {
        switch (error < 0 ? -error : error) {
        case EINVAL: return "EINVAL";
        case ENOEXEC: return "ENOEXEC";
        case EIO: return "EIO";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ENOENT: return "ENOENT";
        case EBUSY: return "EBUSY";
        case ENOMEM: return "ENOMEM";
        case ETIMEDOUT: return "ETIMEDOUT";
        case ESRCH: return "ESRCH";
        case EFAULT: return "EFAULT";
        case ENOTTY: return "ENOTTY";
        case EBADF: return "EBADF";
        case EPERM: return "EPERM";
        case EACCES: return "EACCES";
        case EAGAIN: return "EAGAIN";
        case ECONNREFUSED: return "ECONNREFUSED";
        case ECONNRESET: return "ECONNRESET";
        case ECONNABORTED: return "ECONNABORTED";
        case EPIPE: return "EPIPE";
        case EPROTO: return "EPROTO";
        case EBADMSG: return "EBADMSG";
        case EMSGSIZE: return "EMSGSIZE";
        case EEXIST: return "EEXIST";
        default: return NULL;
        }
}

bool agent_signal_has_handler(int sig) {
        struct sigaction sa;

        if (sigaction(sig, NULL, &sa) < 0)
                return false;
        if (sa.sa_flags & SA_SIGINFO)
                return sa.sa_sigaction != NULL;
        return sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
}

bool agent_kick_signal_usable(serror_agent *a, int sig) {
        return a->proxy_pid > 0 || agent_signal_has_handler(sig);
}

int agent_kick_thread(serror_agent *a, pid_t tid, int sig) {
        if (a->proxy_pid > 0)
                return 0;
        return tgkill(getpid(), tid, sig) < 0 ? negative_errno() : 0;
}

int agent_block_signals(sigset_t *ret_old) {
        sigset_t all;
        int r;

        (void) sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, ret_old);
        return r > 0 ? -r : 0;
}

/* ---------------------------------------------------------------- logging */

void agent_log(serror_agent *a, int level, const char *format, ...) {
        AgentLogLine *l;
        va_list ap;

        /* Without a callback only warnings and errors are shown (to stderr). */
        if (!a->log && level > SERROR_AGENT_LOG_WARNING)
                return;
        if (a->n_logs >= AGENT_LOG_QUEUE_MAX) {
                a->n_logs_dropped++;
                return;
        }
        l = &a->logs[a->n_logs++];
        l->level = level;
        va_start(ap, format);
        (void) vsnprintf(l->text, sizeof(l->text), format, ap);
        va_end(ap);
}

static void deliver_log(serror_agent_log_fn fn, void *userdata, int level, const char *text) {
        if (fn)
                fn(level, text, userdata);
        else
                (void) fprintf(stderr, "serror-agent: %s\n", text);
}

void agent_flush_logs(serror_agent *a) {
        AgentLogLine lines[AGENT_LOG_QUEUE_MAX];
        unsigned n, dropped;

        /* Lines are copied out under the lock so that the callback runs
         * without it: it may then call into the agent. */
        (void) pthread_mutex_lock(&a->lock);
        n = a->n_logs;
        dropped = a->n_logs_dropped;
        if (n > 0)
                memcpy(lines, a->logs, n * sizeof(lines[0]));
        a->n_logs = 0;
        a->n_logs_dropped = 0;
        (void) pthread_mutex_unlock(&a->lock);

        for (unsigned i = 0; i < n; i++)
                deliver_log(a->log, a->log_userdata, lines[i].level, lines[i].text);
        if (dropped > 0) {
                char text[96];

                (void) snprintf(text, sizeof(text), "%u further log messages dropped", dropped);
                deliver_log(a->log, a->log_userdata, SERROR_AGENT_LOG_WARNING, text);
        }
}

void agent_lock(serror_agent *a) {
        (void) pthread_mutex_lock(&a->lock);
}

void agent_unlock(serror_agent *a) {
        bool have_logs = a->n_logs > 0 || a->n_logs_dropped > 0;

        (void) pthread_mutex_unlock(&a->lock);
        if (have_logs)
                agent_flush_logs(a);
}

/* Before an agent exists: options errors go where its log would have gone. */
_printf_(2, 3) static void log_options_error(const serror_agent_options *o, const char *format, ...) {
        char text[AGENT_LOG_LINE_MAX];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        deliver_log(o->log, o->log_userdata, SERROR_AGENT_LOG_ERR, text);
}

/* ---------------------------------------------------------------- vcpu table */

AgentVcpu *agent_vcpu_lookup(serror_agent *a, uint32_t index) {
        AgentVcpuPage *page;

        if (index > ATTACH_VCPU_INDEX_MAX)
                return NULL;
        page = atomic_load_explicit(&a->pages[index >> AGENT_VCPU_PAGE_SHIFT], memory_order_acquire);
        if (!page)
                return NULL;
        return atomic_load_explicit(&page->slot[index & (AGENT_VCPU_PAGE_SIZE - 1)], memory_order_acquire);
}

/* Lock held. The vcpu for index, created when missing. */
static int vcpu_get_or_create(serror_agent *a, uint32_t index, AgentVcpu **ret) {
        AgentVcpuPage *page;
        AgentVcpu *v;
        unsigned p = index >> AGENT_VCPU_PAGE_SHIFT;

        v = agent_vcpu_lookup(a, index);
        if (v) {
                *ret = v;
                return 0;
        }
        page = atomic_load_explicit(&a->pages[p], memory_order_relaxed);
        if (!page) {
                page = calloc(1, sizeof(*page));
                if (!page)
                        return -ENOMEM;
                atomic_store_explicit(&a->pages[p], page, memory_order_release);
        }
        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->index = index;
        v->fd = -EBADF;
        atomic_init(&v->flags, 0);
        atomic_init(&v->prerun_tid, 0);
        /* Appended: attaches go out in the order the VMM added its vcpus. */
        if (a->vcpus_tail)
                a->vcpus_tail->all_next = v;
        else
                a->vcpus = v;
        a->vcpus_tail = v;
        /* Published last, fully built: before_run may read it without the lock. */
        atomic_store_explicit(&page->slot[index & (AGENT_VCPU_PAGE_SIZE - 1)], v, memory_order_release);
        *ret = v;
        return 0;
}

/* ---------------------------------------------------------------- options */

static int copy_options(const serror_agent_options *options, serror_agent_options *ret) {
        serror_agent_options o = {};
        size_t n;

        if (!options)
                return -EINVAL;
        /* Older callers pass a shorter struct; newer ones a longer one whose
         * extra fields this version does not know, which must then be unset. */
        if (options->size < offsetof(serror_agent_options, vm_name) + sizeof(options->vm_name))
                return -EINVAL;
        n = options->size < sizeof(o) ? options->size : sizeof(o);
        memcpy(&o, options, n);
        for (size_t i = sizeof(o); i < options->size; i++)
                if (((const uint8_t *) options)[i] != 0)
                        return -E2BIG;
        *ret = o;
        return 0;
}

static bool uuid_is_nil(const uint8_t *u) {
        for (size_t i = 0; i < ATTACH_UUID_SIZE; i++)
                if (u[i] != 0)
                        return false;
        return true;
}

static int build_hello(const serror_agent_options *o, AttachHello *ret) {
        AttachHello h = {};
        serror_diag diag = {};
        int r;

        if (o->vm_name && attach_name_looks_like_uuid(o->vm_name)) {
                log_options_error(o, "VM name \"%s\" has the shape of a UUID: pass it as the uuid option instead",
                                  o->vm_name);
                return -EINVAL;
        }
        if (!attach_vm_name_is_valid(o->vm_name)) {
                log_options_error(o, "VM name \"%.80s\" is not valid: 1..%u characters of A-Z a-z 0-9 and - _ . : + @, "
                                  "starting with a letter or digit",
                                  o->vm_name ? o->vm_name : "(null)", ATTACH_NAME_MAX);
                return -EINVAL;
        }
        strcpy(h.name, o->vm_name);
        /* QEMU and others keep an all-zero UUID when none was configured:
         * that is "no UUID" (RFC 4122, 4.1.7), not an error. */
        if (o->uuid && !uuid_is_nil(o->uuid)) {
                h.has_uuid = true;
                memcpy(h.uuid, o->uuid, ATTACH_UUID_SIZE);
        }
        for (size_t i = 0; o->labels && o->labels[i]; i++) {
                if (h.n_labels >= ATTACH_LABELS_MAX) {
                        log_options_error(o, "more than %u labels", ATTACH_LABELS_MAX);
                        return -EINVAL;
                }
                r = attach_label_from_string(o->labels[i], &h.labels[h.n_labels], &diag);
                if (r < 0) {
                        log_options_error(o, "label \"%.80s\": %s", o->labels[i], diag.message);
                        return r;
                }
                for (unsigned j = 0; j < h.n_labels; j++)
                        if (streq(h.labels[j].key, h.labels[h.n_labels].key)) {
                                log_options_error(o, "label key \"%s\" given twice", h.labels[j].key);
                                return -EINVAL;
                        }
                h.n_labels++;
        }
        *ret = h;
        return 0;
}

static int resolve_socket_path(const serror_agent_options *o, char **ret) {
        const char *p = o->socket_path;
        char *copy;

        if (isempty(p))
                p = secure_getenv("SERROR_ATTACH_SOCKET");
        if (isempty(p))
                p = DEFAULT_SOCKET_PATH;
        if (strlen(p) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
                log_options_error(o, "attach socket path \"%.80s...\" is too long for AF_UNIX", p);
                return -EINVAL;
        }
        copy = strdup(p);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

/* ---------------------------------------------------------------- lifetime */

static serror_agent *agent_alloc(void) {
        serror_agent *a;

        a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        if (pthread_mutex_init(&a->lock, NULL) != 0) {
                free(a);
                return NULL;
        }
        a->epoll_fd = a->sock_fd = a->reconnect_fd = a->tick_fd = a->notify_fd = -EBADF;
        a->state = AGENT_CONN_WAITING;
        a->next_id = 1;
        a->esr_cap = -1;
        attach_sendq_init(&a->out, AGENT_SENDQ_MAX);
        a->mce_cap = -1;
        agent_batches_init(&a->batches, AGENT_HELD_MAX, AGENT_RESULT_HOLD_NS, agent_inject_send_result, a);
        atomic_init(&a->any_pre_run, false);
        atomic_init(&a->stopping, false);
        for (size_t i = 0; i < AGENT_VCPU_PAGES; i++)
                atomic_init(&a->pages[i], NULL);
        agent_backoff_reset(&a->backoff);
        return a;
}

static int epoll_add(int epoll_fd, int fd, uint32_t tag) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

        return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negative_errno() : 0;
}

static int agent_open_fds(serror_agent *a) {
        int r;

        a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (a->epoll_fd < 0)
                return negative_errno();
        a->reconnect_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (a->reconnect_fd < 0)
                return negative_errno();
        a->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (a->tick_fd < 0)
                return negative_errno();
        a->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (a->notify_fd < 0)
                return negative_errno();
        r = epoll_add(a->epoll_fd, a->reconnect_fd, AGENT_EV_RECONNECT);
        if (r < 0)
                return r;
        r = epoll_add(a->epoll_fd, a->tick_fd, AGENT_EV_TICK);
        if (r < 0)
                return r;
        return epoll_add(a->epoll_fd, a->notify_fd, AGENT_EV_NOTIFY);
}

static void agent_destroy(serror_agent *a) {
        AgentVcpu *v, *vnext;

        for (v = a->vcpus; v; v = vnext) {
                vnext = v->all_next;
                free(v);
        }
        for (size_t i = 0; i < AGENT_VCPU_PAGES; i++)
                free(atomic_load_explicit(&a->pages[i], memory_order_relaxed));
        a->sock_fd = safe_close(a->sock_fd);
        a->notify_fd = safe_close(a->notify_fd);
        a->tick_fd = safe_close(a->tick_fd);
        a->reconnect_fd = safe_close(a->reconnect_fd);
        a->epoll_fd = safe_close(a->epoll_fd);
        free(a->pending);
        free(a->socket_path);
        (void) pthread_mutex_destroy(&a->lock);
        free(a);
}

static int agent_new(const serror_agent_options *options, pid_t proxy_pid, serror_agent **ret) {
        serror_agent_options o;
        serror_agent *a;
        int r;

        if (!ret)
                return -EINVAL;
        r = copy_options(options, &o);
        if (r < 0)
                return r;

        a = agent_alloc();
        if (!a)
                return -ENOMEM;
        a->log = o.log;
        a->log_userdata = o.log_userdata;
        a->proxy_pid = proxy_pid;

        r = build_hello(&o, &a->hello);
        if (r >= 0)
                r = resolve_socket_path(&o, &a->socket_path);
        if (r >= 0)
                r = agent_open_fds(a);
        if (r < 0) {
                agent_destroy(a);
                return r;
        }

        /* Asked once: it cannot change while the VMM runs. */
        a->esr_cap = agent_kvm_probe_serror_esr();
        if (a->esr_cap < 0)
                a->esr_cap = -1;
        a->mce_cap = agent_kvm_probe_mce_cap();
        if (a->mce_cap < 0)
                a->mce_cap = -1;

        agent_conn_start(a);
        agent_flush_logs(a);
        *ret = a;
        return 0;
}

_public_ int serror_agent_new(const serror_agent_options *options, serror_agent **ret) {
        return agent_new(options, 0, ret);
}

int agent_new_proxy(const serror_agent_options *options, pid_t vmm_pid, serror_agent **ret) {
        if (vmm_pid <= 0)
                return -EINVAL;
        return agent_new(options, vmm_pid, ret);
}

int agent_hello_refusal(serror_agent *a) {
        int r;

        agent_lock(a);
        r = a->hello_refusal;
        agent_unlock(a);
        return r;
}

unsigned agent_count_attached_vcpus(serror_agent *a) {
        unsigned n = 0;

        agent_lock(a);
        for (AgentVcpu *v = a->vcpus; v; v = v->all_next)
                n += v->present && v->attach == AGENT_VCPU_ATTACHED;
        agent_unlock(a);
        return n;
}

bool agent_is_detached_by_operator(serror_agent *a) {
        bool stopped;

        agent_lock(a);
        stopped = a->state == AGENT_CONN_STOPPED;
        agent_unlock(a);
        return stopped;
}

_public_ void serror_agent_free(serror_agent *a) {
        if (!a)
                return;

        if (a->thread_started) {
                atomic_store(&a->stopping, true);
                (void) eventfd_write(a->notify_fd, 1);
                (void) pthread_join(a->thread, NULL);
                a->thread_started = false;
        }

        agent_lock(a);
        /* doc/attach-protocol.md 6.5: open INJECTs are answered before the BYE. */
        agent_inject_stop(a);
        agent_conn_close_for_free(a);
        agent_inject_free_all(a);
        agent_unlock(a);
        agent_destroy(a);
}

/* ---------------------------------------------------------------- vcpus */

_public_ int serror_agent_add_vcpu(serror_agent *a, uint32_t index, int vcpu_fd, pid_t tid, int kick_signal) {
        AgentVcpu *v;
        int r;

        if (!a || index > ATTACH_VCPU_INDEX_MAX || vcpu_fd < 0 || tid <= 0 ||
            !attach_kick_signal_is_valid(kick_signal))
                return -EINVAL;
        /* Real-time signals below SIGRTMIN belong to the C library (32 and 33
         * with glibc, 34 too with musl). */
        if (kick_signal >= 32 && kick_signal < SIGRTMIN)
                return -EINVAL;

        agent_lock(a);
        /* doc/attach-protocol.md 5.2: never declare a kick nobody catches. */
        if (!agent_kick_signal_usable(a, kick_signal)) {
                agent_log(a, SERROR_AGENT_LOG_ERR,
                          "vcpu %u: kick signal %d has no handler in this process; install it before adding the vcpu",
                          index, kick_signal);
                r = -EINVAL;
                goto out;
        }
        r = vcpu_get_or_create(a, index, &v);
        if (r < 0)
                goto out;
        if (v->present) {
                r = -EEXIST;
                goto out;
        }
        v->present = true;
        v->fd = vcpu_fd;
        v->tid = tid;
        v->kick_signal = kick_signal;
        v->tid_mismatch_logged = false;
        v->kick_failure_logged = false;
        v->last_kick_ns = 0;
        /* A new thread may serve this index now: it has not called before_run yet. */
        atomic_store(&v->flags, 0);
        atomic_store(&v->prerun_tid, 0);
        agent_conn_vcpu_added(a, v);
        agent_conn_flush(a);
        r = 0;
out:
        agent_unlock(a);
        return r;
}

_public_ int serror_agent_remove_vcpu(serror_agent *a, uint32_t index) {
        AgentVcpu *v;
        int r = 0;

        if (!a)
                return -EINVAL;

        agent_lock(a);
        v = agent_vcpu_lookup(a, index);
        if (!v || !v->present) {
                r = -ENOENT;
                goto out;
        }
        /* Its requests end first (ENOENT), so that their results reach
         * serrord before the VCPU_DETACH does. */
        agent_inject_vcpu_removed(a, v);
        agent_watch_close(a, v);
        v->present = false;
        v->fd = -EBADF;
        atomic_store(&v->flags, 0);
        agent_inject_run(a);
        agent_conn_vcpu_removed(a, v);
        agent_conn_flush(a);
out:
        agent_unlock(a);
        return r;
}

/* ---------------------------------------------------------------- the loop */

_public_ int serror_agent_get_fd(serror_agent *a) {
        if (!a)
                return -EINVAL;
        return a->epoll_fd;
}

static void drain_fd(int fd) {
        uint64_t v;

        /* timerfd and eventfd both read as one u64; EAGAIN means already drained. */
        (void) !read(fd, &v, sizeof(v));
}

_public_ int serror_agent_process(serror_agent *a) {
        struct epoll_event events[8];
        int n, r = 0;

        if (!a)
                return -EINVAL;

        agent_lock(a);
        n = epoll_wait(a->epoll_fd, events, (int) ELEMENTSOF(events), 0);
        if (n < 0 && errno != EINTR)
                r = negative_errno();
        for (int i = 0; i < n; i++)
                switch (events[i].data.u32) {
                case AGENT_EV_SOCKET:
                        agent_conn_on_socket(a, events[i].events);
                        break;
                case AGENT_EV_RECONNECT:
                        drain_fd(a->reconnect_fd);
                        agent_conn_on_reconnect_timer(a);
                        break;
                case AGENT_EV_TICK:
                        drain_fd(a->tick_fd);
                        /* Fired, hence disarmed: always set it again below. */
                        a->tick_armed_ns = AGENT_TIME_NONE;
                        break;
                case AGENT_EV_NOTIFY:
                        drain_fd(a->notify_fd);
                        break;
                }
        /* Whatever woke us, the requests and the send queue are looked at:
         * cheap when idle, and no wake-up can be missed. */
        agent_inject_run(a);
        agent_conn_flush(a);
        agent_unlock(a);
        return r;
}

static void *agent_thread(void *userdata) {
        serror_agent *a = userdata;
        struct epoll_event ev;
        int n;

        (void) pthread_setname_np(pthread_self(), "serror-agent");
        while (!atomic_load(&a->stopping)) {
                n = epoll_wait(a->epoll_fd, &ev, 1, -1);
                if (n < 0 && errno != EINTR)
                        break; /* only EBADF/EINVAL: the fd is gone, nothing to wait for */
                if (atomic_load(&a->stopping))
                        break;
                (void) serror_agent_process(a);
        }
        return NULL;
}

_public_ int serror_agent_start_thread(serror_agent *a) {
        sigset_t old;
        int r;

        if (!a)
                return -EINVAL;

        agent_lock(a);
        if (a->thread_started) {
                agent_unlock(a);
                return -EBUSY;
        }
        /* The thread inherits the mask: every signal blocked, so the VMM's
         * signals (kicks, SIGIO, SIGALRM read through signalfd...) never land
         * on it (DOMAIN.md 7). */
        r = agent_block_signals(&old);
        if (r >= 0) {
                r = -pthread_create(&a->thread, NULL, agent_thread, a);
                (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        if (r < 0) {
                char buf[AGENT_STRERROR_MAX];

                agent_log(a, SERROR_AGENT_LOG_ERR, "cannot start the agent thread: %s",
                          agent_strerror(r, buf, sizeof(buf)));
        } else
                a->thread_started = true;
        agent_unlock(a);
        return r;
}

_public_ void serror_agent_before_run(serror_agent *a, uint32_t index) {
        AgentVcpu *v;
        unsigned f;

        if (_unlikely_(!a))
                return;
        v = agent_vcpu_lookup(a, index);
        if (_unlikely_(!v))
                return;
        f = atomic_load_explicit(&v->flags, memory_order_acquire);
        if (_likely_(f == AGENT_VCPU_F_PRE_RUN))
                return;

        if (!(f & AGENT_VCPU_F_PRE_RUN)) {
                atomic_store(&v->prerun_tid, gettid());
                atomic_fetch_or(&v->flags, AGENT_VCPU_F_PRE_RUN);
                atomic_store(&a->any_pre_run, true);
        }
        /* First the watch: it must read the state the last KVM_RUN left, before a new injection. */
        if (f & AGENT_VCPU_F_WATCH)
                agent_watch_before_run(a, v);
        if (f & AGENT_VCPU_F_POSTED)
                agent_inject_before_run(a, v);
}

_public_ void serror_agent_after_run(serror_agent *a, uint32_t index, const struct kvm_run *run) {
        uint32_t reason, type;

        if (_unlikely_(!a || !run))
                return;
        reason = run->exit_reason;
        if (_likely_(reason != KVM_EXIT_SYSTEM_EVENT && reason != KVM_EXIT_SHUTDOWN &&
                     reason != KVM_EXIT_INTERNAL_ERROR && reason != KVM_EXIT_FAIL_ENTRY))
                return;
        type = reason == KVM_EXIT_SYSTEM_EVENT ? run->system_event.type : 0;
        if (!reaction_exit_is_reported(reason, type) || !agent_vcpu_lookup(a, index))
                return;
        agent_watch_exit(a, index, reason, type);
}

_public_ int serror_agent_is_attached(serror_agent *a) {
        int r;

        if (!a)
                return 0;
        agent_lock(a);
        r = a->state == AGENT_CONN_READY;
        agent_unlock(a);
        return r;
}
