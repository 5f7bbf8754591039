/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The arm64 SError syndrome (ESR_ELx with EC 0x2F): model, text form, encoding and merge rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ESR_ELx layout for an SError interrupt (Arm ARM, "ISS encoding for an SError interrupt"). */
#define SERROR_ESR_EC_SERROR 0x2Fu
#define SERROR_ESR_EC_SHIFT 26
#define SERROR_ESR_IL (UINT32_C(1) << 25)
#define SERROR_ISS_IDS (UINT32_C(1) << 24)
#define SERROR_ISS_IESB (UINT32_C(1) << 13)
#define SERROR_ISS_AET_SHIFT 10
#define SERROR_ISS_AET_MASK (UINT32_C(7) << SERROR_ISS_AET_SHIFT)
#define SERROR_ISS_EA (UINT32_C(1) << 9)
#define SERROR_ISS_DFSC_MASK UINT32_C(0x3f)
/* What KVM_SET_VCPU_EVENTS documents as accepted: ISS[23:0]. */
#define SERROR_ISS_ARCH_MASK UINT32_C(0x00ffffff)
/* With IDS = 1, ISS[23:0] is IMPLEMENTATION DEFINED. */
#define SERROR_ISS_IMPDEF_MASK UINT32_C(0x00ffffff)
#define SERROR_ISS_MASK UINT32_C(0x01ffffff)
/* Bits that are RES0 in the base RAS extension when IDS = 0. */
#define SERROR_ISS_RES0_MASK (SERROR_ISS_ARCH_MASK & ~(SERROR_ISS_IESB | SERROR_ISS_AET_MASK | SERROR_ISS_EA | SERROR_ISS_DFSC_MASK))

typedef enum serror_aet {
        SERROR_AET_UC = 0,  /* uncontainable */
        SERROR_AET_UEU = 1, /* unrecoverable state */
        SERROR_AET_UEO = 2, /* restartable state */
        SERROR_AET_UER = 3, /* recoverable state */
        SERROR_AET_CE = 6,  /* corrected */
} serror_aet;

typedef enum serror_dfsc {
        SERROR_DFSC_UNCATEGORIZED = 0x00,
        SERROR_DFSC_ASYNC = 0x11, /* asynchronous SError interrupt */
} serror_dfsc;

/* One syndrome. When ids is set only impdef carries meaning; otherwise
 * impdef is 0, and aet and iesb carry meaning only when dfsc is ASYNC. */
typedef struct serror_syndrome {
        bool ids;
        uint32_t impdef; /* ISS[23:0] when ids */
        bool iesb;
        serror_aet aet;
        bool ea;
        serror_dfsc dfsc;
} serror_syndrome;

/* Flags for parse, validate and from_iss. */
enum {
        /* Accept IDS = 1 (an IMPLEMENTATION DEFINED syndrome). The documented KVM
         * ABI accepts ISS[23:0] only; kernel 6.1 also takes bit 24 (DOMAIN.md 1). */
        SERROR_ALLOW_IDS = 1u << 0,
};

/* Why a parse or a validation failed, in words that name the field. */
typedef struct serror_diag {
        char message[192];
} serror_diag;

/* Parse the text form. Accepted (comma-separated, case-insensitive):
 *   uc | ueu | ueo | uer | ce      AET name; DFSC = asynchronous SError
 *   aet=NAME  iesb  ea             fields; aet= implies DFSC = async
 *   dfsc=uncategorized|async|0xNN
 *   iss=0xNNN or a bare number     the whole ISS
 *   impdef=0xNNNNNN                IDS = 1 (needs SERROR_ALLOW_IDS)
 * Returns 0, or -EINVAL with diag filled; *ret written only on success. */
int serror_syndrome_parse(const char *text, unsigned flags, serror_syndrome *ret, serror_diag *diag);

/* Canonical text form, which serror_syndrome_parse() reads back to an equal
 * value. Returns the length it needed (like snprintf), or -EINVAL. */
int serror_syndrome_format(const serror_syndrome *s, char *buf, size_t size);

/* Check the rules of DOMAIN.md sections 1 and 2. 0 or -EINVAL with diag. */
int serror_syndrome_validate(const serror_syndrome *s, unsigned flags, serror_diag *diag);

/* ISS as written to kvm_vcpu_events.exception.serror_esr. */
uint32_t serror_syndrome_iss(const serror_syndrome *s);
/* Full ESR_ELx value a guest reads: EC 0x2F, IL, ISS. */
uint32_t serror_syndrome_esr(const serror_syndrome *s);

/* Split an ISS into fields and validate. 0 or -EINVAL with diag. */
int serror_syndrome_from_iss(uint32_t iss, unsigned flags, serror_syndrome *ret, serror_diag *diag);
/* Same from a full ESR: EC must be 0x2F and IL set; bits above 31 must be 0. */
int serror_syndrome_from_esr(uint64_t esr, unsigned flags, serror_syndrome *ret, serror_diag *diag);

/* Names: "UC", "UEU", ... or NULL for a reserved code. */
const char *serror_aet_to_string(serror_aet aet);
/* Case-insensitive; 0 or -EINVAL. */
int serror_aet_from_string(const char *s, serror_aet *ret);
/* "uncategorized", "async" or NULL. */
const char *serror_dfsc_to_string(serror_dfsc dfsc);
/* A longer human description: "asynchronous SError interrupt". */
const char *serror_dfsc_describe(serror_dfsc dfsc);
const char *serror_aet_describe(serror_aet aet);

/* Severity rank (DOMAIN.md 3, from RAS spec Table 3): CE 0 < DE 1 < UEO 2 <
 * UER 3 < UEU 4 < UC 5. Uncategorized and IDS = 1 syndromes rank as UC,
 * because a Linux guest treats them as fatal like UC. */
enum {
        SERROR_SEVERITY_CE = 0,
        SERROR_SEVERITY_DE = 1,
        SERROR_SEVERITY_UEO = 2,
        SERROR_SEVERITY_UER = 3,
        SERROR_SEVERITY_UEU = 4,
        SERROR_SEVERITY_UC = 5,
};
int serror_syndrome_severity(const serror_syndrome *s);

/* What the guest state holds before an injection. */
typedef enum serror_pending_kind {
        SERROR_PENDING_NONE,
        SERROR_PENDING_KNOWN,   /* serror_pending with an ESR we could read */
        SERROR_PENDING_UNKNOWN, /* pending, but KVM chose the ESR (no has_esr) */
} serror_pending_kind;

/* The multiple-SError behaviour an injection asks for (DOMAIN.md 3). */
typedef enum serror_mode {
        SERROR_MODE_MERGE,
        SERROR_MODE_DEFER,
        SERROR_MODE_SKIP,
        _SERROR_MODE_MAX,
} serror_mode;

const char *serror_mode_to_string(serror_mode m);
int serror_mode_from_string(const char *s, serror_mode *ret);

/* Every requested injection ends with exactly one of these. */
typedef enum serror_outcome {
        SERROR_OUTCOME_INJECTED,  /* nothing was pending; the new syndrome was written */
        SERROR_OUTCOME_MERGED,    /* one was pending; the new one is more severe and replaced it */
        SERROR_OUTCOME_COALESCED, /* one was pending and at least as severe; nothing written */
        SERROR_OUTCOME_DEFERRED,  /* deferred, then injected once the earlier one was taken */
        SERROR_OUTCOME_SKIPPED,   /* one was pending; the new one was dropped */
        SERROR_OUTCOME_EXPIRED,   /* the deadline passed first */
        SERROR_OUTCOME_FAILED,    /* an error; see the errno */
        SERROR_OUTCOME_DRY_RUN,   /* everything but the ioctl */
        _SERROR_OUTCOME_MAX,
} serror_outcome;

const char *serror_outcome_to_string(serror_outcome o);
int serror_outcome_from_string(const char *s, serror_outcome *ret);
/* True for the outcomes after which the guest has (or will take) the error:
 * injected, merged, coalesced, deferred. */
bool serror_outcome_landed(serror_outcome o);

/* What the injector must do now, given the pending state, the mode and the new
 * syndrome. */
typedef enum serror_action {
        SERROR_ACTION_WRITE, /* write *ret_write (set serror_pending and the ESR) */
        SERROR_ACTION_NONE,  /* write nothing; the outcome is final */
        SERROR_ACTION_WAIT,  /* defer: look again after the vcpu has taken the pending one */
} serror_action;

typedef struct serror_decision {
        serror_action action;
        serror_outcome outcome;  /* final unless action is WAIT */
        serror_syndrome write;   /* valid when action is WRITE */
} serror_decision;

/* Apply the multiple-SError rules. pending may be NULL unless kind is KNOWN.
 * A pending SError of unknown syndrome counts as IDS = 1: KVM's own choice
 * of ESR is an IMPLEMENTATION DEFINED syndrome. Pure; 0 or -EINVAL. */
int serror_decide(serror_pending_kind kind, const serror_syndrome *pending, const serror_syndrome *incoming,
                  serror_mode mode, serror_decision *ret);

#ifdef __cplusplus
}
#endif
