/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The x86 machine check (MCi_STATUS, ADDR, MISC, MCG_STATUS): model, text form, decoding, classes and the rule for a second one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serror/syndrome.h"

#ifdef __cplusplus
extern "C" {
#endif

/* IA32_MCi_STATUS (Intel SDM vol. 3B, "IA32_MCi_STATUS MSRs"). S and AR are
 * architectural when MCG_CAP.MCG_SER_P is set, which KVM offers. */
#define SERROR_MCI_VAL   (UINT64_C(1) << 63) /* the bank holds an error */
#define SERROR_MCI_OVER  (UINT64_C(1) << 62) /* an earlier error was lost */
#define SERROR_MCI_UC    (UINT64_C(1) << 61) /* uncorrected */
#define SERROR_MCI_EN    (UINT64_C(1) << 60) /* reporting enabled */
#define SERROR_MCI_MISCV (UINT64_C(1) << 59) /* MCi_MISC is valid */
#define SERROR_MCI_ADDRV (UINT64_C(1) << 58) /* MCi_ADDR is valid */
#define SERROR_MCI_PCC   (UINT64_C(1) << 57) /* processor context corrupt */
#define SERROR_MCI_S     (UINT64_C(1) << 56) /* signalled as a machine check exception (UCR error) */
#define SERROR_MCI_AR    (UINT64_C(1) << 55) /* recovery action required */
#define SERROR_MCI_THRESHOLD_SHIFT 53        /* 54:53, with MCG_TES_P and UC clear */
#define SERROR_MCI_THRESHOLD_MASK (UINT64_C(3) << SERROR_MCI_THRESHOLD_SHIFT)
#define SERROR_MCI_COUNT_SHIFT 38            /* 52:38, corrected error count with MCG_CMCI_P */
#define SERROR_MCI_COUNT_MASK (UINT64_C(0x7fff) << SERROR_MCI_COUNT_SHIFT)
#define SERROR_MCI_OTHER_SHIFT 32            /* 37:32, implementation-specific */
#define SERROR_MCI_OTHER_MASK (UINT64_C(0x3f) << SERROR_MCI_OTHER_SHIFT)
#define SERROR_MCI_MSCOD_SHIFT 16            /* 31:16, model-specific error code */
#define SERROR_MCI_MSCOD_MASK (UINT64_C(0xffff) << SERROR_MCI_MSCOD_SHIFT)
#define SERROR_MCI_CODE_MASK UINT64_C(0xffff) /* 15:0, MCA error code */

/* IA32_MCG_STATUS. */
#define SERROR_MCG_RIPV   (UINT64_C(1) << 0) /* the program can restart at the saved IP */
#define SERROR_MCG_EIPV   (UINT64_C(1) << 1) /* the saved IP is where the error happened */
#define SERROR_MCG_MCIP   (UINT64_C(1) << 2) /* a machine check is in progress */
#define SERROR_MCG_LMCE_S (UINT64_C(1) << 3) /* signalled to this logical processor only */
#define SERROR_MCG_KNOWN_MASK (SERROR_MCG_RIPV | SERROR_MCG_EIPV | SERROR_MCG_MCIP | SERROR_MCG_LMCE_S)

/* KVM_MAX_MCE_BANKS: KVM_X86_SET_MCE refuses a bank at or beyond it (and
 * beyond the count the VMM gave KVM_X86_SETUP_MCE, which only the agent knows). */
#define SERROR_MCE_BANKS_MAX 32

/* One machine check, as KVM_X86_SET_MCE takes it (struct kvm_x86_mce,
 * whose pad bytes are the agent's business). */
typedef struct serror_mce {
        uint32_t bank;
        uint64_t status;
        uint64_t addr;
        uint64_t misc;
        uint64_t mcg_status;
} serror_mce;

/* What kind of error a machine check reports, in rising order of harm: the
 * values compare as severities. */
typedef enum serror_mce_class {
        SERROR_MCE_CE,    /* corrected: logged in the bank, no #MC */
        SERROR_MCE_UCNA,  /* uncorrected, no action required: logged, no #MC */
        SERROR_MCE_SRAO,  /* software recoverable, action optional: #MC */
        SERROR_MCE_SRAR,  /* software recoverable, action required: #MC */
        SERROR_MCE_FATAL, /* #MC the guest cannot survive: PCC, no restart IP, not a UCR error, or no MCIP */
        _SERROR_MCE_CLASS_MAX,
} serror_mce_class;

/*
 * Parse the text form: "mce:" and comma-separated items, case-insensitive,
 * blanks around items ignored:
 *   ce | ucna | srao | srar | fatal   a preset; it must come first
 *   bank=N                            0..31 (default 1)
 *   status=0xN                        the whole MCi_STATUS
 *   code=0xN                          the MCA error code, bits 15:0
 *   val over uc en pcc s ar           MCi_STATUS flags; VAL and EN are set unless status= clears them
 *   addr=0xN  misc=0xN                MCi_ADDR, MCi_MISC; they set ADDRV, MISCV
 *   mcg=0xN | ripv eipv mcip lmce     MCG_STATUS
 * Later items change what earlier ones set. A text whose first item is srao,
 * srar, ucna or fatal may leave out "mce:" ("srar,bank=3"); "ce" alone is
 * the SError syndrome, so the corrected machine check is "mce:ce".
 * The presets are the values measured with KVM_X86_SET_MCE (DOMAIN.md 8):
 *   ce    0x9c00000000000001  MCG_STATUS 0
 *   ucna  0xbc00000000000010  MCG_STATUS 0
 *   srao  0xbd000000000000c0  MCG_STATUS RIPV|MCIP (0x5)
 *   srar  0xbd80000000000134  MCG_STATUS RIPV|EIPV|MCIP (0x7)
 * and fatal, chosen here: 0xb200000000000000 (VAL|UC|EN|PCC) with EIPV|MCIP
 * (0x6): context corrupt and no restart IP, which a Linux guest panics on.
 * All in bank 1. 0, or -EINVAL with diag naming the item or field that is
 * wrong; *ret is written only on success.
 */
int serror_mce_parse(const char *text, serror_mce *ret, serror_diag *diag);
/* True when text is a machine check's text form rather than an SError's. */
bool serror_mce_text_is_mce(const char *text);
/*
 * The rules a machine check must keep (0 or -EINVAL with diag):
 * bank below 32 and VAL set (KVM answers EINVAL otherwise); pcc and s only
 * with uc, ar only with s; addr and misc non-zero only with ADDRV and MISCV;
 * MCG_STATUS only RIPV, EIPV, MCIP and LMCE_S, and none at all for a
 * corrected error, since KVM writes MCG_STATUS only for an uncorrected one.
 */
int serror_mce_validate(const serror_mce *m, serror_diag *diag);
/* Canonical text form, "mce:status=0x...,bank=N[,addr=0x...][,misc=0x...],mcg=0x...",
 * which serror_mce_parse() reads back to an equal value when m is valid.
 * Returns the length it needed, like snprintf, or -EINVAL. */
int serror_mce_format(const serror_mce *m, char *buf, size_t size);

/* An MCi_STATUS split into its fields. Which of the fields above bit 31 are
 * architectural depends on MCG_CAP (SDM "IA32_MCi_STATUS MSRs"); they are
 * given as found. */
typedef struct serror_mce_status_fields {
        bool val, over, uc, en, miscv, addrv, pcc, s, ar;
        uint16_t mca_code;        /* 15:0 */
        uint16_t model_code;      /* 31:16 (MSCOD) */
        uint8_t other_info;       /* 37:32 */
        uint16_t corrected_count; /* 52:38; bit 52 is the sticky overflow */
        uint8_t threshold;        /* 54:53: 0 no tracking, 1 green, 2 yellow (corrected errors only) */
} serror_mce_status_fields;

/* Every value splits; 0, or -EINVAL when ret is NULL. */
int serror_mce_status_decode(uint64_t status, serror_mce_status_fields *ret);
/* The flag at bit in MCi_STATUS ("VAL" for 63 ... "AR" for 55) or in
 * MCG_STATUS ("RIPV", "EIPV", "MCIP", "LMCE_S"); NULL for other bits. */
const char *serror_mce_status_bit_name(unsigned bit);
const char *serror_mce_mcg_bit_name(unsigned bit);
/* The MCA error code in words (SDM "Interpreting the MCA Error Codes"):
 * "memory controller: memory scrubbing, channel 0", "cache hierarchy: data
 * load, data, level 0", "unclassified"... Returns the length it needed, like
 * snprintf, or -EINVAL. */
int serror_mce_code_describe(uint16_t code, char *buf, size_t size);

/* Whether KVM raises a #MC for it: an uncorrected error that is not UCNA,
 * where UCNA is KVM's is_ucna() (Linux 6.0 and later): UC without PCC, S
 * and AR, and MCG_STATUS 0. Corrected and UCNA errors are only logged. */
bool serror_mce_raises_mc(const serror_mce *m);
/* For a valid m. A #MC is fatal for a Linux guest (arch/x86/kernel/cpu/mce/
 * severity.c) with PCC, without RIPV, without S, or without MCIP in
 * MCG_STATUS ("MCIP not set in MCA handler"). */
serror_mce_class serror_mce_classify(const serror_mce *m);
/* Where a machine check stands on the SError severity scale, for the
 * guards' one cap ([Guards] MaxSeverity=): ce as CE, ucna and srao as UEO
 * (the guest may go on), srar as UER (recoverable, action required), fatal
 * as UC. A valid m; an invalid one ranks as UC. */
int serror_mce_severity(const serror_mce *m);
/* "ce", "ucna", "srao", "srar", "fatal"; NULL beyond. */
const char *serror_mce_class_to_string(serror_mce_class c);
/* One line in words, for display; NULL beyond. */
const char *serror_mce_class_describe(serror_mce_class c);

/*
 * The multiple-error rule on x86, and what serror does with it.
 *
 * SDM vol. 3B, "Machine-Check Exception": a machine check while MCG_STATUS.MCIP
 * is set shuts the processor down. KVM_X86_SET_MCE keeps that rule (DOMAIN.md 8,
 * measured): an uncorrected error written while the vcpu's MCIP is set makes
 * the next KVM_RUN exit with KVM_EXIT_SHUTDOWN. The vcpu's MCIP is the one the
 * last machine check carried, until the guest's handler clears MCG_STATUS. So
 * the injector reads MCG_STATUS first (KVM_GET_MSRS) and decides:
 *
 *   incoming   MCIP clear   MCIP set or unknown
 *   ce         write        write: KVM's corrected path touches only the bank
 *                           (and keeps an uncorrected record there, adding OVER)
 *   ucna       write        as a #MC below: KVM's UCNA path sets MCG_STATUS to
 *                           the 0 a UCNA carries, clearing MCIP and RIPV under
 *                           the guest's handler (x86.c kvm_vcpu_x86_set_ucna;
 *                           measured on Linux 6.1 by tests/bats/mce.bats)
 *   #MC        write        merge: nothing written, COALESCED: the guest takes
 *                                  the machine check in progress and not this
 *                                  one, as a pending SError that is at least
 *                                  as severe stands for a new one;
 *                           defer: WAIT, then DEFERRED once MCIP reads clear;
 *                           skip:  nothing written, SKIPPED.
 *
 * Unknown counts as set, as serror_decide() counts a pending SError of
 * unknown syndrome as the most severe: guessing wrong costs the guest.
 * 0, or -EINVAL for a bad mcip, mode or pointer.
 */
typedef enum serror_mcip {
        SERROR_MCIP_CLEAR,   /* MCG_STATUS read, MCIP clear */
        SERROR_MCIP_SET,     /* MCG_STATUS read, MCIP set: a #MC is queued or being handled */
        SERROR_MCIP_UNKNOWN, /* MCG_STATUS could not be read */
        _SERROR_MCIP_MAX,
} serror_mcip;

typedef struct serror_mce_decision {
        serror_action action;   /* WRITE: KVM_X86_SET_MCE with the incoming machine check */
        serror_outcome outcome; /* final unless action is WAIT */
        const char *reason;     /* static, one line, for logs */
} serror_mce_decision;

int serror_mce_decide(serror_mcip mcip, const serror_mce *incoming, serror_mode mode, serror_mce_decision *ret);
/* "clear", "set", "unknown"; NULL beyond. */
const char *serror_mcip_to_string(serror_mcip mcip);

#ifdef __cplusplus
}
#endif
