/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libserror-agent's INJECT handling: per-vcpu queues, the vcpu-thread path, worker threads, kicks, deadlines. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "list.h"
#include "agent-internal.h"
#include "agent-kvm.h"

/* ---------------------------------------------------------------- results */

static void send_result(serror_agent *a, uint64_t id, const AttachInjectResult *res) {
        AttachMsg m = { .type = ATTACH_MSG_INJECT_RESULT, .request_id = id };
        int r;

        if (a->state != AGENT_CONN_READY)
                return;
        m.inject_result = *res;
        r = agent_conn_queue(a, &m);
        if (r == -EINVAL) {
                /* Logged by the encoder as a bug; serrord still gets an outcome. */
                AttachInjectResult f = {
                        .vcpu = res->vcpu,
                        .outcome = SERROR_OUTCOME_FAILED,
                        .error = EPROTO,
                        .received_ns = res->received_ns,
                        .done_ns = res->done_ns,
                };
                attach_message_copy(f.message, "the agent could not encode this result (internal error)");
                m.inject_result = f;
                (void) agent_conn_queue(a, &m);
        }
}

_printf_(6, 7) static void answer_failed(serror_agent *a, uint64_t id, uint32_t vcpu, uint64_t received_ns, int error,
                                         const char *format, ...) {
        AgentExec x = {};
        char text[AGENT_LOG_LINE_MAX];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        x.res.vcpu = vcpu;
        x.res.received_ns = received_ns;
        agent_exec_fail(&x, error, "%s", text);
        agent_exec_finish(&x, agent_now_ns());
        send_result(a, id, &x.res);
}

void agent_inject_refuse(serror_agent *a, uint64_t id, uint32_t vcpu, int error, const char *message) {
        answer_failed(a, id, vcpu, agent_now_ns(), error, "%s", message);
}

/* Lock held. The live request serrord numbered id on this connection, if any. */
static AgentRequest *request_find(serror_agent *a, uint64_t id) {
        for (AgentVcpu *v = a->vcpus; v; v = v->all_next)
                for (AgentRequest *req = v->queue_head; req; req = req->next)
                        if (req->id == id && !req->cancelled && req->generation == a->generation)
                                return req;
        return NULL;
}

/* ---------------------------------------------------------------- the per-vcpu queue */

/* The vcpu thread looks at flags only: keep POSTED exactly when the head
 * waits for it. */
static void vcpu_update_posted(AgentVcpu *v) {
        AgentRequest *head = v->queue_head;

        if (head && (head->state == AGENT_REQ_POSTED || head->state == AGENT_REQ_SLOT_WAITING))
                atomic_fetch_or_explicit(&v->flags, AGENT_VCPU_F_POSTED, memory_order_release);
        else
                atomic_fetch_and_explicit(&v->flags, ~(unsigned) AGENT_VCPU_F_POSTED, memory_order_release);
}

static void vcpu_unlink(AgentVcpu *v, AgentRequest *req) {
        AgentRequest **p, *prev = NULL;

        for (p = &v->queue_head; *p; prev = *p, p = &(*p)->next)
                if (*p == req) {
                        *p = req->next;
                        if (v->queue_tail == req)
                                v->queue_tail = prev;
                        v->n_queued--;
                        return;
                }
}

/* Lock held: the vcpu's worker lost its request; kick it a while longer
 * so that it gets through and is reaped. */
static void vcpu_job_stale(AgentVcpu *v, uint64_t now) {
        if (v->job)
                v->stale_kick_until_ns = agent_time_add(now, AGENT_STALE_KICK_NS);
}

static void request_detach_job(AgentRequest *req) {
        if (req->job) {
                req->job->request = NULL;
                req->job = NULL;
        }
}

/* The sender AgentBatches uses (lock held). */
void agent_inject_send_result(void *userdata, uint64_t id, const AttachInjectResult *res) {
        send_result(userdata, id, res);
}

/* Lock held: an SError this request left pending that no watch follows (it ran
 * on a worker): serrord must not read silence as "not taken". */
static void request_report_unwatched(serror_agent *a, AgentVcpu *v, const AgentRequest *req) {
        AttachMsg m = {
                .type = ATTACH_MSG_REACTION,
                .reaction = { .vcpu = v->index, .kind = ATTACH_REACTION_UNWATCHED, .inject_id = req->id },
        };

        if (req->watched || req->cancelled || req->generation != a->generation || req->in.dry_run ||
            req->in.is_mce || !serror_outcome_landed(req->exec.res.outcome) || !req->exec.res.after.valid ||
            !req->exec.res.after.pending)
                return;
        (void) agent_conn_notify(a, &m);
}

/* Lock held: send the result, if anyone still wants it, and forget the request. */
static void request_end(serror_agent *a, AgentVcpu *v, AgentRequest *req) {
        unsigned held = a->batches.n_held;

        /* /dev/kvm could not be asked: serror_has_esr of a read tells the same. */
        if (a->esr_cap < 0 && req->exec.res.before.valid)
                a->esr_cap = req->exec.res.before.has_esr ? 1 : 0;
        agent_exec_finish(&req->exec, agent_now_ns());
        request_report_unwatched(a, v, req);
        /* Sent now, or with the rest of its batch (agent-batch.c). */
        agent_batches_end(&a->batches, req->batch, req->id, &req->exec.res,
                          !req->cancelled && req->generation == a->generation, agent_now_ns());
        if (a->batches.n_held < held)
                agent_log(a, SERROR_AGENT_LOG_DEBUG, "%u results of one batch sent together",
                          held - a->batches.n_held + 1);
        request_detach_job(req);
        vcpu_unlink(v, req);
        a->n_requests--;
        free(req);
}

/* Lock held: forget the request without an answer (its connection is gone). */
static void request_discard(serror_agent *a, AgentVcpu *v, AgentRequest *req) {
        agent_batches_discard(&a->batches, req->batch);
        request_detach_job(req);
        vcpu_unlink(v, req);
        a->n_requests--;
        free(req);
}

/* ---------------------------------------------------------------- receiving an INJECT */

void agent_inject_receive(serror_agent *a, uint64_t id, const AttachInject *in) {
        uint64_t now = agent_now_ns();
        serror_syndrome incoming = {};
        serror_diag diag = {};
        AgentRequest *req;
        AgentVcpu *v;
        int r;

        if (a->n_requests > 0 && request_find(a, id))
                return answer_failed(a, id, in->vcpu, now, -EEXIST, "request id %" PRIu64 " is already in flight", id);
        v = agent_vcpu_lookup(a, in->vcpu);
        if (!v || !v->present || v->attach != AGENT_VCPU_ATTACHED)
                return answer_failed(a, id, in->vcpu, now, -ENOENT, "vcpu %" PRIu32 " is not attached by this VMM",
                                     in->vcpu);
        if (in->is_mce) {
                if (!agent_kvm_mce_supported())
                        return answer_failed(a, id, in->vcpu, now, -EOPNOTSUPP,
                                             "machine-check injection needs an x86_64 KVM host");
        } else if (!agent_kvm_serror_supported())
                return answer_failed(a, id, in->vcpu, now, -EOPNOTSUPP,
                                     "SError injection needs an arm64 KVM host; on x86 inject a machine check "
                                     "(srao, srar, ucna, fatal, mce:...)");
        if (in->has_esr && a->esr_cap == 0)
                return answer_failed(a, id, in->vcpu, now, -EOPNOTSUPP,
                                     "this KVM host lacks KVM_CAP_ARM_INJECT_SERROR_ESR (no RAS extension): a chosen "
                                     "syndrome cannot be written; only a request that lets KVM choose it can");
        if (in->is_mce)
                ; /* the codec checked it with serror_mce_validate(); serror_mce_decide() ranks it */
        else if (in->has_esr) {
                r = serror_syndrome_from_iss(in->iss, in->allow_ids ? SERROR_ALLOW_IDS : 0, &incoming, &diag);
                if (r < 0)
                        return answer_failed(a, id, in->vcpu, now, r, "%s", diag.message);
        } else
                /* KVM's own choice (kvm_inject_vabt()) sets IDS: an IMPLEMENTATION
                 * DEFINED syndrome, ranked by serror_decide() like UC. */
                incoming = (serror_syndrome) { .ids = true };

        if (v->n_queued >= AGENT_REQUESTS_PER_VCPU_MAX || a->n_requests >= AGENT_REQUESTS_MAX)
                return answer_failed(a, id, in->vcpu, now, -EBUSY,
                                     "too many injection requests queued (%u for vcpu %" PRIu32 ", %u in all)",
                                     v->n_queued, in->vcpu, a->n_requests);
        req = calloc(1, sizeof(*req));
        if (!req)
                return answer_failed(a, id, in->vcpu, now, -ENOMEM, "out of memory");

        req->id = id;
        req->generation = a->generation;
        req->batch = agent_batches_join(&a->batches);
        req->in = *in;
        req->incoming = incoming;
        req->deadline_ns = agent_time_add(now, in->timeout_ns);
        req->state = AGENT_REQ_QUEUED;
        req->exec.res.vcpu = in->vcpu;
        req->exec.res.received_ns = now;
        QUEUE_APPEND(v->queue_head, v->queue_tail, req);
        v->n_queued++;
        a->n_requests++;
        /* Started (and kicked) by agent_inject_run() at the end of this pass. */
}

/* ---------------------------------------------------------------- worker threads */

static void job_unref(AgentJob *job) {
        unsigned refs;

        (void) pthread_mutex_lock(&job->lock);
        refs = --job->refs;
        (void) pthread_mutex_unlock(&job->lock);
        if (refs > 0)
                return;
        job->fd = safe_close(job->fd);
        (void) pthread_mutex_destroy(&job->lock);
        free(job);
}

static bool job_commit(void *userdata, const AgentExec *x) {
        AgentJob *job = userdata;
        bool ok;

        (void) pthread_mutex_lock(&job->lock);
        ok = !job->cancelled && agent_now_ns() < job->deadline_ns;
        if (ok) {
                job->phase = AGENT_JOB_COMMITTING;
                job->exec = *x;
        }
        (void) pthread_mutex_unlock(&job->lock);
        return ok;
}

static void job_written(void *userdata, const AgentExec *x) {
        AgentJob *job = userdata;

        (void) pthread_mutex_lock(&job->lock);
        job->phase = AGENT_JOB_WRITTEN;
        job->exec = *x;
        (void) pthread_mutex_unlock(&job->lock);
}

/* The worker shares nothing with the agent but the job, so that it may
 * outlive a wedged vcpu's deadline, or the agent itself. */
static void *job_thread(void *userdata) {
        AgentJob *job = userdata;
        const AgentExecHooks hooks = { .commit = job_commit, .written = job_written, .userdata = job };
        AgentExec x;
        bool stop;

        (void) pthread_setname_np(pthread_self(), "serror-inject");
        (void) pthread_mutex_lock(&job->lock);
        x = job->exec;
        (void) pthread_mutex_unlock(&job->lock);

        for (;;) {
                struct timespec ts;

                if (agent_exec_run(job->fd, &job->in, &job->incoming, &job->host, &x, &hooks) == AGENT_EXEC_DONE)
                        break;
                /* Defer: the vcpu must run to take the earlier SError; look
                 * again in a millisecond (the agent's kicks bring it out). */
                (void) pthread_mutex_lock(&job->lock);
                job->polling = true;
                job->exec = x;
                stop = job->cancelled || agent_now_ns() >= job->deadline_ns;
                (void) pthread_mutex_unlock(&job->lock);
                if (stop) {
                        agent_exec_expire(&x, "the earlier SError was still pending at the deadline");
                        break;
                }
                agent_timespec_from_ns(AGENT_DEFER_POLL_NS, &ts);
                (void) nanosleep(&ts, NULL);
        }

        (void) pthread_mutex_lock(&job->lock);
        job->exec = x;
        job->phase = AGENT_JOB_DONE;
        if (job->notify_fd >= 0)
                (void) eventfd_write(job->notify_fd, 1);
        (void) pthread_mutex_unlock(&job->lock);
        job_unref(job);
        return NULL;
}

static int job_start(serror_agent *a, AgentVcpu *v, AgentRequest *req) {
        _cleanup_close_ int fd = -EBADF;
        pthread_attr_t attr;
        AgentJob *job;
        sigset_t old;
        int r;

        fd = fcntl(v->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        job = calloc(1, sizeof(*job));
        if (!job)
                return -ENOMEM;
        if (pthread_mutex_init(&job->lock, NULL) != 0) {
                free(job);
                return -ENOMEM;
        }
        job->refs = 2;
        job->fd = TAKE_FD(fd);
        job->vcpu = v->index;
        job->in = req->in;
        job->incoming = req->incoming;
        job->host.esr_cap = a->esr_cap;
        job->host.mce_cap = a->mce_cap;
        job->deadline_ns = req->deadline_ns;
        job->phase = AGENT_JOB_RUNNING;
        job->notify_fd = a->notify_fd;
        job->exec = req->exec;

        r = -pthread_attr_init(&attr);
        if (r >= 0) {
                (void) pthread_attr_setstacksize(&attr, AGENT_WORKER_STACK_SIZE);
                /* Created with every signal blocked, like the agent thread. */
                r = agent_block_signals(&old);
                if (r >= 0) {
                        r = -pthread_create(&job->thread, &attr, job_thread, job);
                        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
                }
                (void) pthread_attr_destroy(&attr);
        }
        if (r < 0) {
                job->fd = safe_close(job->fd);
                (void) pthread_mutex_destroy(&job->lock);
                free(job);
                return r;
        }

        job->request = req;
        req->job = job;
        job->next = a->jobs;
        a->jobs = job;
        v->job = job;
        return 0;
}

/* Lock held: join the workers that finished and hand their results over. */
static void reap_jobs(serror_agent *a) {
        AgentJob **p = &a->jobs;

        while (*p) {
                AgentJob *job = *p;
                AgentVcpu *v;
                bool done;

                (void) pthread_mutex_lock(&job->lock);
                done = job->phase == AGENT_JOB_DONE;
                (void) pthread_mutex_unlock(&job->lock);
                if (!done) {
                        p = &job->next;
                        continue;
                }
                /* DONE is the worker's last step before it returns: short. */
                (void) pthread_join(job->thread, NULL);
                *p = job->next;

                v = agent_vcpu_lookup(a, job->vcpu);
                if (v && v->job == job)
                        v->job = NULL;
                if (job->request) {
                        AgentRequest *req = job->request;

                        req->exec = job->exec;
                        req->state = AGENT_REQ_DONE;
                        request_detach_job(req);
                }
                job_unref(job);
        }
}

/* Lock held: the deadline passed while a worker serves req. */
static void job_expire(AgentVcpu *v, AgentRequest *req, uint64_t now) {
        AgentJob *job = req->job;
        char buf[AGENT_KVM_MESSAGE_MAX];

        (void) pthread_mutex_lock(&job->lock);
        switch (job->phase) {
        case AGENT_JOB_RUNNING:
                /* The worker checks this before it writes: nothing will be. */
                job->cancelled = true;
                req->exec = job->exec;
                if (job->polling)
                        agent_exec_expire(&req->exec, "the earlier SError was still pending at the deadline");
                else {
                        (void) snprintf(buf, sizeof(buf),
                                        "KVM_GET_VCPU_EVENTS did not get the vcpu before the deadline (%u kicks)",
                                        req->kicks);
                        agent_exec_expire(&req->exec, buf);
                }
                req->state = AGENT_REQ_DONE;
                break;
        case AGENT_JOB_COMMITTING:
                /* The SET is issued and waits for the vcpu mutex: it may still
                 * land, so keep kicking a little longer before giving up. */
                if (now < agent_time_add(req->deadline_ns, AGENT_COMMIT_GRACE_NS))
                        break;
                job->cancelled = true;
                req->exec = job->exec;
                agent_exec_fail(&req->exec, -ETIMEDOUT,
                                "KVM_SET_VCPU_EVENTS was issued before the deadline but had not returned %" PRIu64
                                " ms after it; the SError may still become pending",
                                AGENT_COMMIT_GRACE_NS / AGENT_NSEC_PER_MSEC);
                req->state = AGENT_REQ_DONE;
                break;
        case AGENT_JOB_WRITTEN:
                /* Written: the outcome stands; the read-back gets the same grace. */
                if (now < agent_time_add(req->deadline_ns, AGENT_COMMIT_GRACE_NS))
                        break;
                job->cancelled = true;
                req->exec = job->exec;
                (void) snprintf(buf, sizeof(buf), "written; the read-back had not returned %" PRIu64 " ms after the deadline",
                                AGENT_COMMIT_GRACE_NS / AGENT_NSEC_PER_MSEC);
                attach_message_copy(req->exec.res.message, buf);
                req->state = AGENT_REQ_DONE;
                break;
        case AGENT_JOB_DONE:
                req->exec = job->exec;
                req->state = AGENT_REQ_DONE;
                break;
        }
        (void) pthread_mutex_unlock(&job->lock);
        if (req->state == AGENT_REQ_DONE) {
                request_detach_job(req);
                vcpu_job_stale(v, now);
        }
}

/* ---------------------------------------------------------------- starting, expiring, kicking */

static void request_expire(AgentVcpu *v, AgentRequest *req, uint64_t now) {
        char buf[AGENT_KVM_MESSAGE_MAX];

        switch (req->state) {
        case AGENT_REQ_QUEUED:
                agent_exec_expire(&req->exec, v->job && v->queue_head == req ?
                                  "an earlier request's ioctl on this vcpu was still blocked at the deadline" :
                                  "still queued behind earlier requests for this vcpu at the deadline");
                req->state = AGENT_REQ_DONE;
                break;
        case AGENT_REQ_POSTED:
                (void) snprintf(buf, sizeof(buf),
                                "the vcpu thread did not come out of KVM_RUN before the deadline (%u kicks)",
                                req->kicks);
                agent_exec_expire(&req->exec, buf);
                req->state = AGENT_REQ_DONE;
                break;
        case AGENT_REQ_SLOT_WAITING:
                agent_exec_expire(&req->exec, "the earlier SError was still pending at the deadline");
                req->state = AGENT_REQ_DONE;
                break;
        case AGENT_REQ_WORKER:
                job_expire(v, req, now);
                break;
        case AGENT_REQ_SLOT_RUNNING:
                /* On the vcpu thread right now, between two ioctls; it checks
                 * the deadline itself before writing and reports at once. */
        case AGENT_REQ_DONE:
                break;
        }
}

static void request_start(serror_agent *a, AgentVcpu *v, AgentRequest *req) {
        char buf[AGENT_STRERROR_MAX];
        int r;

        if (!v->present) {
                agent_exec_fail(&req->exec, -ECANCELED, "vcpu %u was removed by the VMM", v->index);
                req->state = AGENT_REQ_DONE;
                return;
        }
        /* Checked at add time too; a VMM that reset it since would be killed
         * by the kick (DOMAIN.md 5). */
        if (!agent_kick_signal_usable(a, v->kick_signal)) {
                agent_exec_fail(&req->exec, -EINVAL, "the kick signal %d of vcpu %u has no handler in the VMM any more",
                                v->kick_signal, v->index);
                req->state = AGENT_REQ_DONE;
                return;
        }
        if (atomic_load(&v->flags) & AGENT_VCPU_F_PRE_RUN) {
                /* The cheap, race-free path: the vcpu's own thread runs it
                 * between two KVM_RUNs (DOMAIN.md 5 and 7). */
                req->state = AGENT_REQ_POSTED;
                v->last_kick_ns = 0;
                return;
        }
        if (v->job)
                /* An earlier worker's ioctl is still blocked: one at a time per vcpu. */
                return;
        r = job_start(a, v, req);
        if (r < 0) {
                agent_exec_fail(&req->exec, r, "cannot start a worker thread: %s",
                                agent_strerror(r, buf, sizeof(buf)));
                req->state = AGENT_REQ_DONE;
                return;
        }
        req->state = AGENT_REQ_WORKER;
        v->last_kick_ns = 0;
}

static bool job_is_done(AgentJob *job) {
        bool done;

        (void) pthread_mutex_lock(&job->lock);
        done = job->phase == AGENT_JOB_DONE;
        (void) pthread_mutex_unlock(&job->lock);
        return done;
}

/* Lock held. How often the vcpu thread needs a kick now, and which thread:
 * 0 when it needs none. */
static uint64_t vcpu_kick_period(serror_agent *a, AgentVcpu *v, uint64_t now, pid_t *ret_tid) {
        AgentRequest *head = v->queue_head;
        pid_t prerun_tid;

        *ret_tid = v->tid;
        if (!v->present)
                return 0;

        if (head)
                switch (head->state) {
                case AGENT_REQ_POSTED:
                case AGENT_REQ_SLOT_WAITING:
                        /* Kick the thread that actually calls before_run. */
                        prerun_tid = atomic_load(&v->prerun_tid);
                        if (prerun_tid > 0 && prerun_tid != v->tid) {
                                if (!v->tid_mismatch_logged)
                                        agent_log(a, SERROR_AGENT_LOG_WARNING,
                                                  "vcpu %u: before_run is called on thread %d, but thread %d was declared",
                                                  v->index, (int) prerun_tid, (int) v->tid);
                                v->tid_mismatch_logged = true;
                                *ret_tid = prerun_tid;
                        }
                        return agent_kick_backoff(AGENT_KICK_VCPU_THREAD_NS, head->kicks,
                                                  AGENT_KICK_VCPU_THREAD_MAX_NS);
                case AGENT_REQ_WORKER: {
                        bool polling;
                        AgentJobPhase phase;

                        (void) pthread_mutex_lock(&head->job->lock);
                        phase = head->job->phase;
                        polling = head->job->polling;
                        (void) pthread_mutex_unlock(&head->job->lock);
                        if (phase == AGENT_JOB_DONE)
                                return 0; /* its eventfd write wakes the loop */
                        return polling ? AGENT_DEFER_POLL_NS : AGENT_KICK_WORKER_NS;
                }
                case AGENT_REQ_QUEUED:
                        /* Get the earlier, cancelled worker's ioctl through first. */
                        if (v->job && !job_is_done(v->job))
                                return AGENT_KICK_WORKER_NS;
                        break;
                default:
                        break;
                }

        if (v->job && now < v->stale_kick_until_ns && !job_is_done(v->job))
                return AGENT_KICK_VCPU_THREAD_NS;
        return 0;
}

/* Lock held. Kick the vcpu thread when needed; returns when the next kick
 * is due, or AGENT_TIME_NONE. */
static uint64_t vcpu_kick(serror_agent *a, AgentVcpu *v, uint64_t now) {
        AgentRequest *head = v->queue_head;
        char buf[AGENT_STRERROR_MAX];
        uint64_t period;
        pid_t tid;

        period = vcpu_kick_period(a, v, now, &tid);
        if (period == 0)
                return AGENT_TIME_NONE;

        if (now >= agent_kick_due(v->last_kick_ns, period)) {
                v->last_kick_ns = now;
                if (head)
                        head->kicks++;
                int r = agent_kick_thread(a, tid, v->kick_signal);

                if (r < 0) {
                        if (!v->kick_failure_logged)
                                agent_log(a, SERROR_AGENT_LOG_WARNING, "cannot kick vcpu %u (thread %d, signal %d): %s",
                                          v->index, (int) tid, v->kick_signal, agent_strerror(r, buf, sizeof(buf)));
                        v->kick_failure_logged = true;
                        if (head && (head->state == AGENT_REQ_POSTED || head->state == AGENT_REQ_SLOT_WAITING)) {
                                agent_exec_fail(&head->exec, r, "cannot kick the vcpu thread %d: %s", (int) tid,
                                                agent_strerror(r, buf, sizeof(buf)));
                                head->state = AGENT_REQ_DONE;
                                vcpu_update_posted(v);
                                return 1; /* at once: the next pass sends it */
                        }
                        /* A worker's ioctl gets through without kicks once the thread is gone. */
                        v->stale_kick_until_ns = 0;
                }
        }
        if (!head && now >= v->stale_kick_until_ns)
                return AGENT_TIME_NONE;
        return agent_kick_due(v->last_kick_ns, period);
}

/* Lock held: end, expire, start and kick this vcpu's requests. Returns the
 * next time it needs the loop. */
static uint64_t vcpu_run(serror_agent *a, AgentVcpu *v, uint64_t now) {
        AgentRequest *req, *next;
        uint64_t wake;

        for (req = v->queue_head; req; req = next) {
                next = req->next;
                if (req->state != AGENT_REQ_DONE && now >= req->deadline_ns)
                        request_expire(v, req, now);
                if (req->state == AGENT_REQ_DONE)
                        request_end(a, v, req);
        }
        while ((req = v->queue_head) && req->state == AGENT_REQ_QUEUED) {
                request_start(a, v, req);
                if (req->state != AGENT_REQ_DONE)
                        break;
                request_end(a, v, req);
        }
        vcpu_update_posted(v);

        wake = vcpu_kick(a, v, now);
        for (req = v->queue_head; req; req = req->next)
                if (req->state != AGENT_REQ_DONE)
                        /* Past the deadline and still live: a SET in its grace period. */
                        wake = agent_time_earliest(wake, now < req->deadline_ns ?
                                                   req->deadline_ns :
                                                   agent_time_add(req->deadline_ns, AGENT_COMMIT_GRACE_NS));
        return wake;
}

static void arm_tick(serror_agent *a, uint64_t when) {
        struct itimerspec its = {};

        if (when == a->tick_armed_ns)
                return;
        if (when != AGENT_TIME_NONE)
                agent_timespec_from_ns(when, &its.it_value);
        /* An absolute time already past fires at once; 0 would disarm. */
        if (timerfd_settime(a->tick_fd, TFD_TIMER_ABSTIME, &its, NULL) >= 0)
                a->tick_armed_ns = when;
}

void agent_inject_run(serror_agent *a) {
        uint64_t now, wake = AGENT_TIME_NONE;
        unsigned held;

        /* The requests read before this pass are one batch; later ones start the next. */
        agent_batches_next(&a->batches);
        if (a->n_requests == 0 && !a->jobs && !a->batches.head && a->n_watching == 0) {
                arm_tick(a, AGENT_TIME_NONE);
                return;
        }
        reap_jobs(a);
        now = agent_now_ns();
        for (AgentVcpu *v = a->vcpus; v; v = v->all_next) {
                if (v->queue_head || v->job)
                        wake = agent_time_earliest(wake, vcpu_run(a, v, now));
                if (v->n_watch > 0)
                        wake = agent_time_earliest(wake, agent_watch_run(a, v, now));
        }
        held = a->batches.n_held;
        wake = agent_time_earliest(wake, agent_batches_run(&a->batches, now));
        if (a->batches.n_held < held)
                agent_log(a, SERROR_AGENT_LOG_DEBUG, "%u results of a batch sent after waiting %llu ms for the rest",
                          held - a->batches.n_held, (unsigned long long) (AGENT_RESULT_HOLD_NS / AGENT_NSEC_PER_MSEC));
        arm_tick(a, wake);
}

/* ---------------------------------------------------------------- the vcpu-thread path */

typedef struct SlotCtx {
        serror_agent *agent;
        AgentRequest *req;
} SlotCtx;

static bool slot_commit(void *userdata, const AgentExec *x) {
        SlotCtx *c = userdata;
        bool ok;

        (void) x;
        (void) pthread_mutex_lock(&c->agent->lock);
        ok = !c->req->cancelled && agent_now_ns() < c->req->deadline_ns;
        (void) pthread_mutex_unlock(&c->agent->lock);
        return ok;
}

void agent_inject_before_run(serror_agent *a, AgentVcpu *v) {
        SlotCtx ctx = { .agent = a };
        const AgentExecHooks hooks = { .commit = slot_commit, .userdata = &ctx };
        AgentExecHost host;
        serror_syndrome incoming;
        AttachInject in;
        AgentRequest *req;
        AgentExec x;
        int fd;

        /* Plain lock and unlock: no log callback ever runs on a vcpu thread. */
        (void) pthread_mutex_lock(&a->lock);
        req = v->queue_head;
        if (!v->present || !req || (req->state != AGENT_REQ_POSTED && req->state != AGENT_REQ_SLOT_WAITING)) {
                vcpu_update_posted(v);
                (void) pthread_mutex_unlock(&a->lock);
                return;
        }
        if (req->state == AGENT_REQ_POSTED)
                req->exec.res.reached_ns = agent_now_ns();
        /* SLOT_RUNNING pins req: nothing frees it until this thread is done. */
        req->state = AGENT_REQ_SLOT_RUNNING;
        vcpu_update_posted(v);
        ctx.req = req;
        x = req->exec;
        in = req->in;
        incoming = req->incoming;
        host.esr_cap = a->esr_cap;
        host.mce_cap = a->mce_cap;
        fd = v->fd;
        (void) pthread_mutex_unlock(&a->lock);

        /* With the vcpu out of KVM_RUN, GET and SET see the same state. */
        if (agent_exec_run(fd, &in, &incoming, &host, &x, &hooks) == AGENT_EXEC_AGAIN) {
                (void) pthread_mutex_lock(&a->lock);
                req->exec = x;
                if (req->cancelled) {
                        agent_exec_expire(&req->exec, "cancelled while deferring");
                        req->state = AGENT_REQ_DONE;
                } else
                        /* Look again on the next before_run; the loop kicks and expires. */
                        req->state = AGENT_REQ_SLOT_WAITING;
        } else {
                (void) pthread_mutex_lock(&a->lock);
                req->exec = x;
                req->state = AGENT_REQ_DONE;
                /* It left an SError pending: watch for the guest taking it. */
                if (!req->cancelled && req->generation == a->generation && !in.dry_run && !in.is_mce &&
                    serror_outcome_landed(x.res.outcome) && x.res.after.valid && x.res.after.pending) {
                        agent_watch_open(a, v, req->id, agent_now_ns());
                        req->watched = true;
                }
        }
        vcpu_update_posted(v);
        (void) pthread_mutex_unlock(&a->lock);
        (void) eventfd_write(a->notify_fd, 1);
}

/* ---------------------------------------------------------------- connection and vcpu ends */

void agent_inject_drop_all(serror_agent *a) {
        uint64_t now = agent_now_ns();

        for (AgentVcpu *v = a->vcpus; v; v = v->all_next) {
                AgentRequest *req, *next;

                for (req = v->queue_head; req; req = next) {
                        next = req->next;
                        if (req->state == AGENT_REQ_SLOT_RUNNING) {
                                /* The vcpu thread holds it; it ends in the loop, unsent. */
                                req->cancelled = true;
                                continue;
                        }
                        if (req->job) {
                                (void) pthread_mutex_lock(&req->job->lock);
                                req->job->cancelled = true;
                                (void) pthread_mutex_unlock(&req->job->lock);
                                vcpu_job_stale(v, now);
                        }
                        request_discard(a, v, req);
                }
                vcpu_update_posted(v);
        }
        agent_batches_forget(&a->batches);
}

/* Lock held: every request of v that has no outcome yet gets ECANCELED; one
 * already written keeps its outcome. running_too: also the one a vcpu thread
 * runs right now (only when that thread cannot be in before_run any more). */
static void vcpu_cancel(AgentVcpu *v, bool running_too, const char *why) {
        for (AgentRequest *req = v->queue_head; req; req = req->next) {
                switch (req->state) {
                case AGENT_REQ_SLOT_RUNNING:
                        /* On the vcpu thread with a valid fd: let it finish and report. */
                        if (!running_too)
                                break;
                        agent_exec_fail(&req->exec, -ECANCELED, "%s", why);
                        req->state = AGENT_REQ_DONE;
                        break;
                case AGENT_REQ_DONE:
                        break;
                case AGENT_REQ_WORKER:
                        (void) pthread_mutex_lock(&req->job->lock);
                        req->job->cancelled = true;
                        req->exec = req->job->exec;
                        switch (req->job->phase) {
                        case AGENT_JOB_RUNNING:
                                agent_exec_fail(&req->exec, -ECANCELED, "%s", why);
                                break;
                        case AGENT_JOB_COMMITTING:
                                agent_exec_fail(&req->exec, -ECANCELED,
                                                "%s while KVM_SET_VCPU_EVENTS was outstanding; the SError may still "
                                                "become pending", why);
                                break;
                        case AGENT_JOB_WRITTEN:
                        case AGENT_JOB_DONE:
                                break;
                        }
                        (void) pthread_mutex_unlock(&req->job->lock);
                        request_detach_job(req);
                        req->state = AGENT_REQ_DONE;
                        break;
                default:
                        agent_exec_fail(&req->exec, -ECANCELED, "%s", why);
                        req->state = AGENT_REQ_DONE;
                        break;
                }
        }
        vcpu_update_posted(v);
}

void agent_inject_vcpu_removed(serror_agent *a, AgentVcpu *v) {
        char why[64];

        (void) a;
        (void) snprintf(why, sizeof(why), "vcpu %u was removed by the VMM", v->index);
        vcpu_cancel(v, false, why);
}

void agent_inject_stop(serror_agent *a) {
        for (AgentVcpu *v = a->vcpus; v; v = v->all_next) {
                AgentRequest *req, *next;

                vcpu_cancel(v, true, "the agent is stopping");
                for (req = v->queue_head; req; req = next) {
                        next = req->next;
                        request_end(a, v, req);
                }
        }
}

void agent_inject_free_all(serror_agent *a) {
        AgentJob *job, *next;
        struct timespec pause;

        for (job = a->jobs; job; job = job->next) {
                (void) pthread_mutex_lock(&job->lock);
                job->cancelled = true;
                /* The eventfd is about to close: the worker must not write to it. */
                job->notify_fd = -EBADF;
                (void) pthread_mutex_unlock(&job->lock);
        }
        /* A worker blocked on a busy vcpu gets through with a few kicks and
         * then writes nothing; give it a few milliseconds, not more. */
        agent_timespec_from_ns(AGENT_KICK_WORKER_NS, &pause);
        for (unsigned i = 0; i < AGENT_FREE_KICKS; i++) {
                bool waiting = false;

                for (job = a->jobs; job; job = job->next) {
                        AgentVcpu *v = agent_vcpu_lookup(a, job->vcpu);

                        if (job_is_done(job) || !v || !v->present || v->job != job)
                                continue;
                        waiting = true;
                        (void) agent_kick_thread(a, v->tid, v->kick_signal);
                }
                if (!waiting)
                        break;
                (void) nanosleep(&pause, NULL);
        }

        for (job = a->jobs; job; job = next) {
                next = job->next;
                /* One still blocked (a vcpu that ignores kicks) finishes alone
                 * when its vcpu next leaves KVM_RUN, writes nothing, and frees
                 * its job and its dup of the vcpu fd. */
                if (job_is_done(job))
                        (void) pthread_join(job->thread, NULL);
                else
                        (void) pthread_detach(job->thread);
                job->request = NULL;
                job_unref(job);
        }
        a->jobs = NULL;

        for (AgentVcpu *v = a->vcpus; v; v = v->all_next) {
                AgentRequest *req;

                while ((req = v->queue_head)) {
                        req->job = NULL;
                        request_discard(a, v, req);
                }
                v->job = NULL;
                atomic_store(&v->flags, 0);
        }
        agent_batches_forget(&a->batches);
}
