/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's internals: the agent, its vcpus, injection requests and workers, shared by agent/agent-*.c. */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent-backoff.h"
#include "agent-batch.h"
#include "attach-proto.h"
#include "attach-socket.h"
#include "macro.h"
#include "serror/agent.h"
#include "serror/syndrome.h"

/* ---------------------------------------------------------------- limits */

/* Encoded messages waiting for the socket: answers to serrord (results and
 * replies) and HELLO. A serrord that leaves this many unread is not reading
 * at all: the agent drops the connection and reconnects rather than grow
 * without bound. */
#define AGENT_SENDQ_MAX 1024u
/* Injection requests held at once (queued, running or deferred). */
#define AGENT_REQUESTS_PER_VCPU_MAX 64u
#define AGENT_REQUESTS_MAX 4096u
/* Results held back for their batch (agent-batch.c) at most: past this many,
 * results go out as they come, well short of the send queue's bound. */
#define AGENT_HELD_MAX (AGENT_SENDQ_MAX / 4)
/* Log lines gathered under the lock and handed to the callback after it. */
#define AGENT_LOG_QUEUE_MAX 16u
#define AGENT_LOG_LINE_MAX 320u
/* Datagrams handled per serror_agent_process() call; the rest wait for the next. */
#define AGENT_RECV_BATCH 64u
#define AGENT_STRERROR_MAX 128u
/* Worker threads only run a few ioctls; the default 8 MiB would be waste. */
#define AGENT_WORKER_STACK_SIZE (256u * 1024u)

/* Injections one vcpu's taken watch follows at once: SErrors coalesce into
 * one pending SError, so these are all taken together. */
#define AGENT_WATCH_IDS_MAX 8u
/* The watch kicks the vcpu thread so that a guest idling inside KVM_RUN
 * still gets looked at: every eighth of the time since the write, between
 * these bounds (the time taken is known to about that). */
#define AGENT_WATCH_KICK_MIN_NS (1 * AGENT_NSEC_PER_MSEC)
#define AGENT_WATCH_KICK_MAX_NS (100 * AGENT_NSEC_PER_MSEC)

/* vcpu lookup without a lock for serror_agent_before_run(): two levels of
 * 256 entries cover every index up to ATTACH_VCPU_INDEX_MAX. */
#define AGENT_VCPU_PAGE_SHIFT 8u
#define AGENT_VCPU_PAGE_SIZE (1u << AGENT_VCPU_PAGE_SHIFT)
#define AGENT_VCPU_PAGES ((ATTACH_VCPU_INDEX_MAX + 1u) / AGENT_VCPU_PAGE_SIZE)

/* ---------------------------------------------------------------- execution of one INJECT */

/* Progress and result of one injection, wherever it runs. res is what goes
 * into INJECT_RESULT; the rest steps the defer loop. */
typedef struct AgentExec {
        AttachInjectResult res;
        bool have_before; /* res.before holds the first read */
        bool waited;      /* a defer decision was seen: a later write is "deferred" */
} AgentExec;

/* Called right before KVM_SET_VCPU_EVENTS, and right after it succeeded.
 * commit returning false means "do not write" (the deadline passed, or the
 * request was cancelled); the step then ends with outcome expired. */
typedef struct AgentExecHooks {
        bool (*commit)(void *userdata, const AgentExec *x);
        void (*written)(void *userdata, const AgentExec *x);
        void *userdata;
} AgentExecHooks;

typedef enum AgentExecStep {
        AGENT_EXEC_DONE,  /* x->res is final */
        AGENT_EXEC_AGAIN, /* defer: look again once the vcpu has run */
} AgentExecStep;

/* The host facts an execution needs. */
typedef struct AgentExecHost {
        int esr_cap;     /* 1, 0, or -1 when unknown (see agent_kvm_probe_serror_esr()) */
        int64_t mce_cap; /* MCG_CAP features KVM offers; -1 when unknown (agent_kvm_probe_mce_cap()) */
} AgentExecHost;

/* GET, apply the mode with serror_decide() (serror_mce_decide() for an
 * INJECT_MCE), SET unless dry_run, GET again.
 * Runs with no lock held: on the vcpu's thread, or on a worker. */
AgentExecStep agent_exec_run(int vcpu_fd, const AttachInject *in, const serror_syndrome *incoming,
                               const AgentExecHost *host, AgentExec *x, const AgentExecHooks *hooks);
/* End x as expired (the deadline passed first), keeping what was read. */
void agent_exec_expire(AgentExec *x, const char *why);
/* End x as failed with -error and a message. */
void agent_exec_fail(AgentExec *x, int error, const char *format, ...) _printf_(3, 4);
/* Make x valid for the codec (done >= reached >= received) and stamp done. */
void agent_exec_finish(AgentExec *x, uint64_t done_ns);

/* ---------------------------------------------------------------- worker threads (agent-side path) */

typedef enum AgentJobPhase {
        AGENT_JOB_RUNNING,    /* reading, deciding, deferring: may still be cancelled */
        AGENT_JOB_COMMITTING, /* KVM_SET_VCPU_EVENTS issued: the SError may land */
        AGENT_JOB_WRITTEN,    /* the SET succeeded; reading back */
        AGENT_JOB_DONE,       /* exec is final; the thread is about to return */
} AgentJobPhase;

typedef struct AgentRequest AgentRequest;

/* One worker thread and what it shares with the agent. The worker never
 * touches the agent itself, so it can outlive it (a vcpu wedged in KVM_RUN
 * keeps its ioctl blocked); fields marked (lock) are under job->lock. */
typedef struct AgentJob {
        pthread_mutex_t lock;
        unsigned refs;   /* (lock) the agent's and the worker's */
        pthread_t thread;
        int fd;          /* owned: a dup of the VMM's vcpu fd, so a VMM that closes its fd
                          * never leaves the worker with a recycled fd number */
        uint32_t vcpu;
        AttachInject in;
        serror_syndrome incoming;
        AgentExecHost host;
        uint64_t deadline_ns;

        AgentJobPhase phase; /* (lock) */
        bool cancelled;        /* (lock) the agent gave up: write nothing more */
        bool polling;          /* (lock) deferring: slower kicks will do */
        int notify_fd;         /* (lock) the agent's eventfd; -EBADF once the agent is gone */
        AgentExec exec;       /* (lock) progress, final once phase is DONE */

        /* The agent's side, under the agent's lock. */
        AgentRequest *request; /* the request it serves, NULL once that ended */
        uint64_t committing_since_ns;
        struct AgentJob *next;
} AgentJob;

/* ---------------------------------------------------------------- requests and vcpus */

typedef enum AgentRequestState {
        AGENT_REQ_QUEUED,       /* waiting behind another request of its vcpu */
        AGENT_REQ_POSTED,       /* in the vcpu's slot; its thread is being kicked */
        AGENT_REQ_SLOT_RUNNING, /* the vcpu thread runs it now (in before_run) */
        AGENT_REQ_SLOT_WAITING, /* deferred on the vcpu-thread path: re-checked at each before_run */
        AGENT_REQ_WORKER,       /* a worker thread runs it */
        AGENT_REQ_DONE,         /* exec is final; the loop sends it */
} AgentRequestState;

struct AgentRequest {
        uint64_t id;         /* serrord's request id */
        uint64_t generation; /* the connection it came on */
        AttachInject in;
        serror_syndrome incoming;
        uint64_t deadline_ns;
        AgentRequestState state;
        bool cancelled; /* its connection went away: nobody wants the result */
        uint64_t batch; /* the receive pass it came in (agent-batch.c); 0: none */
        unsigned kicks;
        bool watched;  /* the vcpu's taken watch follows the SError it left pending */
        AgentExec exec;
        AgentJob *job; /* AGENT_REQ_WORKER only */
        struct AgentRequest *next;
};

typedef enum AgentVcpuAttach {
        AGENT_VCPU_LOCAL,    /* not announced on this connection (or no connection) */
        AGENT_VCPU_PENDING,  /* VCPU_ATTACH to be sent when the socket can take it */
        AGENT_VCPU_SENT,     /* sent, REPLY not yet in */
        AGENT_VCPU_ATTACHED, /* serrord accepted it */
        AGENT_VCPU_REFUSED,  /* serrord refused it: not retried before the next connection */
} AgentVcpuAttach;

enum {
        AGENT_VCPU_F_PRE_RUN = 1u << 0, /* its thread calls serror_agent_before_run() */
        AGENT_VCPU_F_POSTED = 1u << 1,  /* the head request waits for that thread */
        AGENT_VCPU_F_WATCH = 1u << 2,   /* an SError it left pending: before_run looks whether it was taken */
};

/* A vcpu, once created, stays allocated until the agent is freed (removing
 * it only marks it absent), so that serror_agent_before_run() can look it
 * up without a lock. */
typedef struct AgentVcpu {
        uint32_t index;
        bool present;
        int fd; /* the VMM's, never closed here */
        pid_t tid;
        int kick_signal;

        atomic_uint flags;        /* AGENT_VCPU_F_* */
        _Atomic pid_t prerun_tid; /* the thread seen in before_run */
        bool tid_mismatch_logged;

        AgentVcpuAttach attach;
        uint64_t attach_id;  /* request id of the VCPU_ATTACH in flight */
        bool detach_pending; /* a VCPU_DETACH is owed to serrord (sent before any new VCPU_ATTACH) */

        AgentRequest *queue_head, *queue_tail; /* in arrival order; the head is the active one */
        unsigned n_queued;
        AgentJob *job; /* the newest worker for this vcpu until it is reaped */
        uint64_t stale_kick_until_ns; /* job was cancelled: kick it until then */
        uint64_t last_kick_ns;
        bool kick_failure_logged;

        /* The taken watch (agent-watch.c), on the vcpu-thread path only. */
        uint64_t watch_ids[AGENT_WATCH_IDS_MAX];
        uint64_t watch_done_ns[AGENT_WATCH_IDS_MAX]; /* each INJECT_RESULT's done */
        unsigned n_watch;
        uint64_t watch_generation; /* the connection the ids belong to */
        uint64_t watch_until_ns;   /* given up then: the guest keeps SErrors masked */
        uint64_t watch_last_kick_ns;

        struct AgentVcpu *all_next;
} AgentVcpu;

typedef struct AgentVcpuPage {
        _Atomic(AgentVcpu *) slot[AGENT_VCPU_PAGE_SIZE];
} AgentVcpuPage;

/* ---------------------------------------------------------------- the connection */

typedef enum AgentConnState {
        AGENT_CONN_WAITING, /* no socket; the reconnect timer is armed */
        AGENT_CONN_HELLO,   /* connected; HELLO sent, its REPLY not yet in */
        AGENT_CONN_READY,   /* HELLO accepted */
        AGENT_CONN_STOPPED, /* detached by the operator: no reconnect until freed */
} AgentConnState;

/* A request of ours waiting for its REPLY. */
typedef struct AgentPending {
        uint64_t id;
        AttachMsgType type;
        uint32_t vcpu;
} AgentPending;

typedef struct AgentLogLine {
        int level;
        char text[AGENT_LOG_LINE_MAX];
} AgentLogLine;

/* What the epoll registrations carry in data.u32. */
enum {
        AGENT_EV_SOCKET = 1,
        AGENT_EV_RECONNECT,
        AGENT_EV_TICK,
        AGENT_EV_NOTIFY,
};

struct serror_agent {
        /* Held for short, non-blocking stretches only: no ioctl, no sleep, no
         * callback runs under it. */
        pthread_mutex_t lock;

        char *socket_path;
        AttachHello hello; /* name, UUID and labels; pid, arch and caps filled per connection */
        serror_agent_log_fn log;
        void *log_userdata;

        /* Each fd has exactly this one owner. */
        int epoll_fd;     /* the stable fd the VMM polls */
        int sock_fd;      /* -EBADF while disconnected */
        int reconnect_fd; /* timerfd: backoff */
        int tick_fd;      /* timerfd: kicks and deadlines */
        int notify_fd;    /* eventfd: results from vcpu threads and workers, and stop */
        uint32_t sock_events;

        AgentConnState state;
        int drop_error; /* a failure noticed mid-walk: the connection is dropped at the next flush */
        AgentBackoff backoff;
        int last_conn_error; /* the last connection failure logged above debug level */
        uint64_t generation;
        uint64_t next_id;
        uint64_t hello_id;

        AgentPending *pending;
        size_t n_pending, n_pending_allocated;
        AttachSendq out; /* answers and HELLO the socket has not taken yet */
        /* VCPU_ATTACH and VCPU_DETACH are not queued: they are built from the
         * vcpu table when the socket takes them, so their number is bounded by
         * the vcpus and never counts against AGENT_SENDQ_MAX. */
        unsigned n_attach_pending;
        unsigned n_detach_pending;

        _Atomic(AgentVcpuPage *) pages[AGENT_VCPU_PAGES];
        AgentVcpu *vcpus, *vcpus_tail; /* every vcpu ever added, in the order of their first add */
        unsigned n_requests;
        AgentJob *jobs;
        AgentBatches batches; /* results held back for their batch */
        uint64_t tick_armed_ns; /* what the tick timer is set to, AGENT_TIME_NONE when disarmed */

        unsigned n_watching; /* vcpus with a taken watch open */

        /* The attach-by-pid helper (serror-attach-pid): the VMM is this other
         * process, its vcpu ioctls run there by ptrace (agent_kvm_set_ioctl())
         * and need no kicks. 0 for an agent inside its VMM. */
        pid_t proxy_pid;
        int hello_refusal; /* -errno of serrord's last refusal of our HELLO, 0 once one is accepted */

        int esr_cap; /* 1, 0, -1 unknown */
        int64_t mce_cap; /* MCG_CAP features KVM offers, -1 unknown */
        atomic_bool any_pre_run;

        bool thread_started;
        pthread_t thread;
        atomic_bool stopping;

        AgentLogLine logs[AGENT_LOG_QUEUE_MAX];
        unsigned n_logs, n_logs_dropped;
};

/* ---------------------------------------------------------------- agent.c */

/* Queue a log line (lock held, or before the agent is shared); the callback
 * runs in agent_unlock(), after the lock is released. */
void agent_log(serror_agent *a, int level, const char *format, ...) _printf_(3, 4);
void agent_lock(serror_agent *a);
/* Unlock, then deliver the queued log lines. */
void agent_unlock(serror_agent *a);
void agent_flush_logs(serror_agent *a);

uint64_t agent_now_ns(void);
const char *agent_strerror(int error, char *buf, size_t size);
/* "EINVAL", ... for the errnos the agent reports, else NULL. */
const char *agent_errno_name(int error);
/* Block every signal on the calling thread; *ret_old to restore it. */
int agent_block_signals(sigset_t *ret_old);

AgentVcpu *agent_vcpu_lookup(serror_agent *a, uint32_t index);

/* ---------------------------------------------------------------- agent-conn.c */

/* Schedule the first connection attempt (the loop makes it at once). */
void agent_conn_start(serror_agent *a);
/* Try to connect now; on failure arm the backoff timer. */
void agent_conn_connect(serror_agent *a);
void agent_conn_on_socket(serror_agent *a, uint32_t events);
void agent_conn_on_reconnect_timer(serror_agent *a);
/* Send what the socket takes; register for EPOLLOUT when it stops. */
void agent_conn_flush(serror_agent *a);
/* Encode and queue a message; 0 or -errno. A full queue drops the connection at the next flush. */
int agent_conn_queue(serror_agent *a, const AttachMsg *m);
/* Queue a notice (REACTION) under a fresh request id; -ENOTCONN unless HELLO was accepted. */
int agent_conn_notify(serror_agent *a, AttachMsg *m);
/* BYE and close, without waiting: for serror_agent_free(). */
void agent_conn_close_for_free(serror_agent *a);
/* The vcpu needs (or no longer needs) a VCPU_ATTACH on this connection. */
void agent_conn_vcpu_added(serror_agent *a, AgentVcpu *v);
void agent_conn_vcpu_removed(serror_agent *a, AgentVcpu *v);

/* ---------------------------------------------------------------- agent-inject.c */

/* An INJECT arrived. */
void agent_inject_receive(serror_agent *a, uint64_t id, const AttachInject *in);
/* A malformed INJECT that still has a readable id: answer it as failed.
 * vcpu may be ATTACH_VCPU_UNKNOWN. */
void agent_inject_refuse(serror_agent *a, uint64_t id, uint32_t vcpu, int error, const char *message);
/* Reap workers, finish, expire, start and kick; re-arm the tick timer. */
void agent_inject_run(serror_agent *a);
/* AgentBatches' sender: queues one INJECT_RESULT (lock held). */
void agent_inject_send_result(void *userdata, uint64_t id, const AttachInjectResult *res);
/* The connection closed: every request it carried is dropped. */
void agent_inject_drop_all(serror_agent *a);
/* The VMM removed the vcpu: its requests that have not run end as failed
 * with ECANCELED (doc/attach-protocol.md 6.5). */
void agent_inject_vcpu_removed(serror_agent *a, AgentVcpu *v);
/* serror_agent_free(), connected: every open request is answered (ECANCELED
 * unless it already has an outcome) before the BYE. */
void agent_inject_stop(serror_agent *a);
/* True when the calling process has a handler for sig (not SIG_DFL or SIG_IGN). */
bool agent_signal_has_handler(int sig);
/* True when a kick with sig cannot kill the VMM: it has a handler, or
 * (helper) the agent never kicks; serrord checks the VMM's handler then. */
bool agent_kick_signal_usable(serror_agent *a, int sig);
/* tgkill() of a VMM thread: 0 or -errno. The helper does not kick (0). */
int agent_kick_thread(serror_agent *a, pid_t tid, int sig);
/* On serror_agent_before_run()'s slow path. */
void agent_inject_before_run(serror_agent *a, AgentVcpu *v);
/* serror_agent_free(): leave stuck workers to finish alone. */
void agent_inject_free_all(serror_agent *a);

/* ---------------------------------------------------------------- the attach-by-pid helper */

/* serror_agent_new() for the helper: the agent speaks for process vmm_pid
 * (HELLO's pid, capability PTRACE) and never kicks its threads. */
int agent_new_proxy(const serror_agent_options *options, pid_t vmm_pid, serror_agent **ret);
/* True once serrord detached the VM (the operator's detach): the helper's cue to end. */
bool agent_is_detached_by_operator(serror_agent *a);
/* -errno of serrord's last refusal of the HELLO, 0 when none since the last acceptance. */
int agent_hello_refusal(serror_agent *a);
/* How many vcpus serrord has accepted on the current connection. */
unsigned agent_count_attached_vcpus(serror_agent *a);

/* ---------------------------------------------------------------- agent-watch.c */

/* Lock held, on the vcpu's thread: the injection id left an SError pending
 * (its result's done at done_ns); report when the guest takes it. */
void agent_watch_open(serror_agent *a, AgentVcpu *v, uint64_t id, uint64_t done_ns);
/* serror_agent_before_run()'s slow path with a watch open: no lock held. */
void agent_watch_before_run(serror_agent *a, AgentVcpu *v);
/* Lock held: kick or give up; returns the next time the loop is needed. */
uint64_t agent_watch_run(serror_agent *a, AgentVcpu *v, uint64_t now);
/* Lock held: forget the vcpu's watch (vcpu removed, connection gone). */
void agent_watch_close(serror_agent *a, AgentVcpu *v);
/* serror_agent_after_run()'s slow path: a KVM_RUN exit that stops or ends the VM. */
void agent_watch_exit(serror_agent *a, uint32_t index, uint32_t exit_reason, uint32_t event_type);
