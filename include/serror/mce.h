/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The x86 machine check (MCi_STATUS, ADDR, MISC, MCG_STATUS): model, text form, presets and the rule for a second one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serror/syndrome.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MCi_STATUS (Intel SDM vol. 3B, "IA32_MCi_STATUS MSRs"). */
#define SERROR_MCI_VAL   (UINT64_C(1) << 63) /* the bank holds an error */
#define SERROR_MCI_OVER  (UINT64_C(1) << 62) /* an earlier error was overwritten */
#define SERROR_MCI_UC    (UINT64_C(1) << 61) /* uncorrected */
#define SERROR_MCI_EN    (UINT64_C(1) << 60) /* signalling enabled */
#define SERROR_MCI_MISCV (UINT64_C(1) << 59) /* MCi_MISC is valid */
#define SERROR_MCI_ADDRV (UINT64_C(1) << 58) /* MCi_ADDR is valid */
#define SERROR_MCI_PCC   (UINT64_C(1) << 57) /* processor context corrupt */
#define SERROR_MCI_S     (UINT64_C(1) << 56) /* signalled: a #MC was raised (software recoverable) */
#define SERROR_MCI_AR    (UINT64_C(1) << 55) /* action required */
#define SERROR_MCI_CODE_MASK UINT64_C(0xffff) /* MCA error code */

/* MCG_STATUS. */
#define SERROR_MCG_RIPV (UINT64_C(1) << 0) /* restart at the saved IP is possible */
#define SERROR_MCG_EIPV (UINT64_C(1) << 1) /* the saved IP is where the error happened */
#define SERROR_MCG_MCIP (UINT64_C(1) << 2) /* a machine check is in progress */

/* KVM's KVM_MAX_MCE_BANKS: KVM_X86_SET_MCE refuses a bank beyond it. */
#define SERROR_MCE_BANKS_MAX 32

/* One machine check, as KVM_X86_SET_MCE takes it (struct kvm_x86_mce). */
typedef struct serror_mce {
        uint32_t bank;
        uint64_t status;
        uint64_t addr;
        uint64_t misc;
        uint64_t mcg_status;
} serror_mce;

/* What kind of error a machine check reports, in rising order of harm. */
typedef enum serror_mce_class {
        SERROR_MCE_CE,    /* corrected: logged in the bank, no #MC */
        SERROR_MCE_UCNA,  /* uncorrected, no action: logged, no #MC */
        SERROR_MCE_SRAO,  /* software recoverable, action optional: #MC */
        SERROR_MCE_SRAR,  /* software recoverable, action required: #MC */
        SERROR_MCE_FATAL, /* context corrupt, or no valid restart IP: #MC, the guest cannot go on */
} serror_mce_class;

/*
 * Parse the text form: "mce:" and comma-separated items (case-insensitive):
 *   ce | ucna | srao | srar | fatal   a preset (DOMAIN.md section 8's values)
 *   bank=N                            0..31 (default 1)
 *   status=0xN                        the whole MCi_STATUS
 *   code=0xN                          the MCA error code, bits 15:0
 *   over uc en pcc s ar               MCi_STATUS flags (VAL is always set)
 *   addr=0xN  misc=0xN                MCi_ADDR, MCi_MISC (set ADDRV, MISCV)
 *   mcg=0xN | ripv eipv mcip          MCG_STATUS
 * A preset comes first; later items change it. The presets srao, srar, ucna
 * and fatal may also be written alone, without "mce:" (ce alone is the SError
 * syndrome). 0, or -EINVAL with diag naming the item that is wrong.
 */
int serror_mce_parse(const char *text, serror_mce *ret, serror_diag *diag);
/* True when text is a machine check's text form rather than an SError's. */
bool serror_mce_text_is_mce(const char *text);
/* The rules of the format: VAL set, bank below 32, S, AR and PCC only with UC,
 * AR only with S. 0 or -EINVAL with diag. */
int serror_mce_validate(const serror_mce *m, serror_diag *diag);
/* Canonical text form ("mce:status=0x...,bank=1,..."), which serror_mce_parse()
 * reads back to an equal value. Returns the length it needed, like snprintf. */
int serror_mce_format(const serror_mce *m, char *buf, size_t size);

serror_mce_class serror_mce_classify(const serror_mce *m);
/* "ce", "ucna", "srao", "srar", "fatal". */
const char *serror_mce_class_to_string(serror_mce_class c);
/* Whether KVM raises a #MC for it (an uncorrected error that is not UCNA);
 * the others are only logged in the bank. */
bool serror_mce_raises_mc(const serror_mce *m);

/*
 * The multiple-error rule on x86 (DOMAIN.md section 8): a #MC while the
 * guest's MCG_STATUS.MCIP is set shuts the guest down. mcip_set is the
 * guest's MCIP as read before the write. With MCIP clear, or for a machine
 * check that raises no #MC (it is only logged), the answer is WRITE,
 * INJECTED. With MCIP set and one that raises a #MC:
 *   merge: NONE, COALESCED: the machine check in progress stands for it,
 *          and writing it would shut the guest down;
 *   defer: WAIT, DEFERRED: write it once the guest has cleared MCIP;
 *   skip:  NONE, SKIPPED.
 * ret->write is not used. 0 or -EINVAL.
 */
int serror_mce_decide(bool mcip_set, const serror_mce *incoming, serror_mode mode, serror_decision *ret);

#ifdef __cplusplus
}
#endif
