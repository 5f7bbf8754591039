/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One injection's GET / decide / SET / GET, the same on the vcpu's thread and on a worker. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent-internal.h"
#include "agent-kvm.h"

_printf_(2, 0) static void exec_vmessage(AgentExec *x, const char *format, va_list ap) {
        char buf[AGENT_KVM_MESSAGE_MAX * 2];

        (void) vsnprintf(buf, sizeof(buf), format, ap);
        attach_message_copy(x->res.message, buf);
}

_printf_(2, 3) static void exec_message(AgentExec *x, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        exec_vmessage(x, format, ap);
        va_end(ap);
}

void agent_exec_fail(AgentExec *x, int error, const char *format, ...) {
        va_list ap;
        int e = error < 0 ? -error : error;

        /* The wire carries 0 < errno <= MAX_ERRNO for a failure. */
        if (e <= 0 || (unsigned) e > ATTACH_ERRNO_MAX)
                e = EIO;
        x->res.outcome = SERROR_OUTCOME_FAILED;
        x->res.error = e;
        va_start(ap, format);
        exec_vmessage(x, format, ap);
        va_end(ap);
}

void agent_exec_expire(AgentExec *x, const char *why) {
        x->res.outcome = SERROR_OUTCOME_EXPIRED;
        x->res.error = 0;
        exec_message(x, "%s", why);
}

void agent_exec_finish(AgentExec *x, uint64_t done_ns) {
        AttachInjectResult *res = &x->res;

        if (res->outcome == SERROR_OUTCOME_FAILED && res->error == 0)
                res->error = EIO;
        if (res->outcome != SERROR_OUTCOME_FAILED)
                res->error = 0;
        /* One CLOCK_MONOTONIC, read in this order; the max() only guards
         * against a caller that stamped "reached" from a later read. */
        if (res->reached_ns != 0 && res->reached_ns < res->received_ns)
                res->reached_ns = res->received_ns;
        if (done_ns < res->received_ns)
                done_ns = res->received_ns;
        if (done_ns < res->reached_ns)
                done_ns = res->reached_ns;
        res->done_ns = done_ns;
}

static void syndrome_text(const serror_syndrome *s, char *buf, size_t size) {
        if (serror_syndrome_format(s, buf, size) < 0)
                (void) snprintf(buf, size, "ISS 0x%06" PRIx32, serror_syndrome_iss(s));
}

/* What the pending SError is, in the terms serror_decide() takes. KVM keeps
 * at most one (HCR_EL2.VSE with one VSESR_EL2, DOMAIN.md 3). */
static serror_pending_kind classify_pending(const AttachVcpuState *st, serror_syndrome *ret) {
        if (!st->pending)
                return SERROR_PENDING_NONE;
        /* kvm_inject_vabt() (no ESR given) leaves IDS = 1 in VSESR: that
         * decodes here as an IMPLEMENTATION DEFINED syndrome, which it is. */
        if (st->has_esr && st->esr <= UINT32_MAX &&
            serror_syndrome_from_iss((uint32_t) st->esr, SERROR_ALLOW_IDS, ret, NULL) == 0)
                return SERROR_PENDING_KNOWN;
        return SERROR_PENDING_UNKNOWN;
}

static void describe_pending(serror_pending_kind kind, const serror_syndrome *pending, char *buf, size_t size) {
        char s[96];

        if (kind == SERROR_PENDING_KNOWN) {
                syndrome_text(pending, s, sizeof(s));
                (void) snprintf(buf, size, "an SError (%s, ISS 0x%06" PRIx32 ")", s, serror_syndrome_iss(pending));
        } else
                (void) snprintf(buf, size, "an SError whose syndrome KVM chose");
}

/* A read succeeded: the vcpu was reached. For a deferred request, "before"
 * stays the state that made it wait. */
static void exec_read(AgentExec *x, const AttachVcpuState *st) {
        if (x->res.reached_ns == 0)
                x->res.reached_ns = agent_now_ns();
        if (!x->have_before) {
                x->res.before = *st;
                x->have_before = true;
        }
}

/* The x86 machine check: the same steps, with MCG_STATUS.MCIP where arm64 has a pending SError. */
static AgentExecStep exec_run_mce(int vcpu_fd, const AttachInject *in, const AgentExecHost *host, AgentExec *x,
                                    const AgentExecHooks *hooks) {
        char msg[AGENT_KVM_MESSAGE_MAX], note[160] = "";
        AttachVcpuState st, after;
        serror_mce_decision d;
        serror_outcome outcome;
        uint64_t bank_status;
        bool setup = false, cr4_mce = true;
        int r;

        r = agent_kvm_get_mcg_status(vcpu_fd, &st, msg, sizeof(msg));
        if (r < 0) {
                agent_exec_fail(x, r, "%s", msg);
                return AGENT_EXEC_DONE;
        }
        exec_read(x, &st);

        r = serror_mce_decide(st.pending ? SERROR_MCIP_SET : SERROR_MCIP_CLEAR, &in->mce, in->mode, &d);
        if (r < 0) {
                agent_exec_fail(x, r, "the multiple-error rules refused the request (internal error)");
                return AGENT_EXEC_DONE;
        }
        switch (d.action) {
        case SERROR_ACTION_WAIT:
                if (in->dry_run) {
                        x->res.outcome = SERROR_OUTCOME_DRY_RUN;
                        exec_message(x, "dry run: MCIP is set (MCG_STATUS 0x%" PRIx64 "); would defer", st.esr);
                        return AGENT_EXEC_DONE;
                }
                x->waited = true;
                return AGENT_EXEC_AGAIN;
        case SERROR_ACTION_NONE:
                if (in->dry_run) {
                        x->res.outcome = SERROR_OUTCOME_DRY_RUN;
                        exec_message(x, "dry run: MCIP is set (MCG_STATUS 0x%" PRIx64 "); would be %s", st.esr,
                                     serror_outcome_to_string(d.outcome));
                } else {
                        x->res.outcome = d.outcome;
                        exec_message(x, "%s: MCIP is set (MCG_STATUS 0x%" PRIx64 "), %s; nothing written",
                                     d.outcome == SERROR_OUTCOME_COALESCED ? "coalesced" : "dropped", st.esr, d.reason);
                }
                return AGENT_EXEC_DONE;
        case SERROR_ACTION_WRITE:
                break;
        }

        outcome = x->waited ? SERROR_OUTCOME_DEFERRED : d.outcome;
        if (in->dry_run) {
                x->res.written = (AttachVcpuWrite) { .written = true, .has_esr = true, .esr = in->mce.status };
                x->res.outcome = SERROR_OUTCOME_DRY_RUN;
                exec_message(x, "dry run: would be %s", serror_outcome_to_string(outcome));
                return AGENT_EXEC_DONE;
        }
        r = agent_kvm_mce_prepare(vcpu_fd, &in->mce, host->mce_cap, &setup, msg, sizeof(msg));
        if (r < 0) {
                agent_exec_fail(x, r, "%s", msg);
                return AGENT_EXEC_DONE;
        }
        /* Read, not judged: the guest may be meant to go down this way. */
        if (serror_mce_raises_mc(&in->mce) && agent_kvm_get_cr4_mce(vcpu_fd, &cr4_mce, NULL, 0) < 0)
                cr4_mce = true;
        if (hooks && hooks->commit && !hooks->commit(hooks->userdata, x)) {
                agent_exec_expire(x, "the deadline passed before KVM_X86_SET_MCE; nothing written");
                return AGENT_EXEC_DONE;
        }
        r = agent_kvm_set_mce(vcpu_fd, &in->mce, msg, sizeof(msg));
        if (r < 0) {
                agent_exec_fail(x, r, "%s", msg);
                return AGENT_EXEC_DONE;
        }
        x->res.written = (AttachVcpuWrite) { .written = true, .has_esr = true, .esr = in->mce.status };
        x->res.outcome = outcome;
        if (hooks && hooks->written)
                hooks->written(hooks->userdata, x);

        if (!cr4_mce)
                (void) snprintf(note, sizeof(note), "; the guest has CR4.MCE clear: KVM turns the #MC into a "
                                "shutdown (triple fault) and leaves the bank as it was");
        else if (setup)
                (void) snprintf(note, sizeof(note), "; the VMM had not set up machine checks: KVM_X86_SETUP_MCE done");
        r = agent_kvm_get_mcg_status(vcpu_fd, &after, msg, sizeof(msg));
        if (r < 0) {
                exec_message(x, "written; read-back: %s%s", msg, note);
                return AGENT_EXEC_DONE;
        }
        x->res.after = after;
        /* The bank read back tells a corrected or UCNA error, which raises no #MC, was logged. */
        if (agent_kvm_get_bank_status(vcpu_fd, in->mce.bank, &bank_status, msg, sizeof(msg)) < 0)
                exec_message(x, "%s%s", outcome == SERROR_OUTCOME_DEFERRED ? "written once MCIP was clear" : "written",
                             note);
        else
                exec_message(x, "%s; bank %" PRIu32 " reads MCi_STATUS 0x%016" PRIx64 "%s%s",
                             outcome == SERROR_OUTCOME_DEFERRED ? "written once MCIP was clear" : "written",
                             in->mce.bank, bank_status,
                             bank_status != in->mce.status
                                     ? " (not the value written: KVM keeps an uncorrected error already there, "
                                       "or marks the new one OVER)"
                                     : "",
                             note);
        return AGENT_EXEC_DONE;
}

AgentExecStep agent_exec_run(int vcpu_fd, const AttachInject *in, const serror_syndrome *incoming,
                               const AgentExecHost *host, AgentExec *x, const AgentExecHooks *hooks) {
        char msg[AGENT_KVM_MESSAGE_MAX], what[160];
        serror_syndrome pending = {};
        AttachVcpuState st, after;
        serror_pending_kind kind;
        serror_decision d;
        serror_outcome outcome;
        uint64_t iss;
        int r;

        if (in->is_mce)
                return exec_run_mce(vcpu_fd, in, host, x, hooks);
        r = agent_kvm_get_serror(vcpu_fd, &st, msg, sizeof(msg));
        if (r < 0) {
                agent_exec_fail(x, r, "%s", msg);
                return AGENT_EXEC_DONE;
        }
        exec_read(x, &st);

        /* Without KVM_CAP_ARM_INJECT_SERROR_ESR, setting serror_has_esr is
         * -EINVAL (DOMAIN.md 1); a request that lets KVM choose still works. */
        if (in->has_esr && (host->esr_cap == 0 || (host->esr_cap < 0 && !st.has_esr))) {
                agent_exec_fail(x, -EOPNOTSUPP,
                                "this KVM host lacks KVM_CAP_ARM_INJECT_SERROR_ESR (no RAS extension): a chosen "
                                "syndrome cannot be written; only a request that lets KVM choose it can");
                return AGENT_EXEC_DONE;
        }

        kind = classify_pending(&st, &pending);
        r = serror_decide(kind, &pending, incoming, in->mode, &d);
        if (r < 0) {
                agent_exec_fail(x, r, "the multiple-SError rules refused the request (internal error)");
                return AGENT_EXEC_DONE;
        }

        switch (d.action) {
        case SERROR_ACTION_WAIT:
                if (in->dry_run) {
                        describe_pending(kind, &pending, what, sizeof(what));
                        x->res.outcome = SERROR_OUTCOME_DRY_RUN;
                        exec_message(x, "dry run: %s is pending; would defer", what);
                        return AGENT_EXEC_DONE;
                }
                x->waited = true;
                return AGENT_EXEC_AGAIN;

        case SERROR_ACTION_NONE:
                describe_pending(kind, &pending, what, sizeof(what));
                if (in->dry_run) {
                        x->res.outcome = SERROR_OUTCOME_DRY_RUN;
                        exec_message(x, "dry run: %s is pending; would be %s", what,
                                     serror_outcome_to_string(d.outcome));
                } else {
                        x->res.outcome = d.outcome;
                        if (d.outcome == SERROR_OUTCOME_COALESCED)
                                exec_message(x, "%s is pending and at least as severe; nothing written", what);
                        else
                                exec_message(x, "%s is pending; this one was dropped", what);
                }
                return AGENT_EXEC_DONE;

        case SERROR_ACTION_WRITE:
                break;
        }

        outcome = x->waited ? SERROR_OUTCOME_DEFERRED : d.outcome;
        iss = in->has_esr ? serror_syndrome_iss(&d.write) : 0;
        if (in->dry_run) {
                /* doc/attach-protocol.md 5.7: in a dry run, what would have been written. */
                x->res.written = (AttachVcpuWrite) { .written = true, .has_esr = in->has_esr, .esr = iss };
                x->res.outcome = SERROR_OUTCOME_DRY_RUN;
                exec_message(x, "dry run: would be %s", serror_outcome_to_string(outcome));
                return AGENT_EXEC_DONE;
        }
        if (hooks && hooks->commit && !hooks->commit(hooks->userdata, x)) {
                agent_exec_expire(x, "the deadline passed before KVM_SET_VCPU_EVENTS; nothing written");
                return AGENT_EXEC_DONE;
        }

        r = agent_kvm_set_serror(vcpu_fd, in->has_esr, iss, msg, sizeof(msg));
        if (r < 0) {
                agent_exec_fail(x, r, "%s", msg);
                return AGENT_EXEC_DONE;
        }
        x->res.written = (AttachVcpuWrite) { .written = true, .has_esr = in->has_esr, .esr = iss };
        x->res.outcome = outcome;
        if (outcome == SERROR_OUTCOME_MERGED) {
                describe_pending(kind, &pending, what, sizeof(what));
                exec_message(x, "replaced %s, which is less severe", what);
        } else if (outcome == SERROR_OUTCOME_DEFERRED)
                exec_message(x, "written after the earlier SError was taken");
        else
                x->res.message[0] = '\0';
        if (hooks && hooks->written)
                hooks->written(hooks->userdata, x);

        r = agent_kvm_get_serror(vcpu_fd, &after, msg, sizeof(msg));
        if (r < 0)
                /* The write stands; only the read-back is missing. */
                exec_message(x, "written; read-back: %s", msg);
        else
                x->res.after = after;
        return AGENT_EXEC_DONE;
}
