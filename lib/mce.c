/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The x86 machine check: text form, validation, decoding, classes and the MCIP rule (pure, libc only). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text-util.h"
#include "macro.h"
#include "parse-util.h"
#include "serror/mce.h"

#define MCE_PREFIX "mce:"
#define DEFAULT_BANK 1
/* Longer values are refused before they are copied: 0x and 16 hex digits,
 * or 20 decimal ones, fit with room for leading zeros. Refusals quote at
 * most this much of an item, so the field name always fits in the diag. */
#define ITEM_VALUE_MAX 40

/* DOMAIN.md section 8: the values KVM_X86_SET_MCE took and a guest read
 * back, in bank 1. fatal is ours: see mce.h. */
static const struct mce_preset {
        const char *name;
        uint64_t status;
        uint64_t mcg_status;
        bool alone; /* may open a text without "mce:" */
} presets[] = {
        { "ce", UINT64_C(0x9c00000000000001), 0, false },
        { "ucna", UINT64_C(0xbc00000000000010), 0, true },
        { "srao", UINT64_C(0xbd000000000000c0), SERROR_MCG_RIPV | SERROR_MCG_MCIP, true },
        { "srar", UINT64_C(0xbd80000000000134), SERROR_MCG_RIPV | SERROR_MCG_EIPV | SERROR_MCG_MCIP, true },
        { "fatal", UINT64_C(0xb200000000000000), SERROR_MCG_EIPV | SERROR_MCG_MCIP, true },
};

static const struct mce_flag {
        const char *name;
        uint64_t bit;
        bool in_mcg; /* MCG_STATUS rather than MCi_STATUS */
} flags[] = {
        { "val", SERROR_MCI_VAL, false },   { "over", SERROR_MCI_OVER, false }, { "uc", SERROR_MCI_UC, false },
        { "en", SERROR_MCI_EN, false },     { "pcc", SERROR_MCI_PCC, false },   { "s", SERROR_MCI_S, false },
        { "ar", SERROR_MCI_AR, false },     { "ripv", SERROR_MCG_RIPV, true },  { "eipv", SERROR_MCG_EIPV, true },
        { "mcip", SERROR_MCG_MCIP, true },  { "lmce", SERROR_MCG_LMCE_S, true },
};

static const char *const status_bit_names[64] = {
        [63] = "VAL", [62] = "OVER", [61] = "UC", [60] = "EN", [59] = "MISCV",
        [58] = "ADDRV", [57] = "PCC", [56] = "S", [55] = "AR",
};

static const char *const mcg_bit_names[64] = {
        [0] = "RIPV", [1] = "EIPV", [2] = "MCIP", [3] = "LMCE_S",
};

static const char *const class_names[_SERROR_MCE_CLASS_MAX] = {
        [SERROR_MCE_CE] = "ce",     [SERROR_MCE_UCNA] = "ucna", [SERROR_MCE_SRAO] = "srao",
        [SERROR_MCE_SRAR] = "srar", [SERROR_MCE_FATAL] = "fatal",
};

static const char *const class_descriptions[_SERROR_MCE_CLASS_MAX] = {
        [SERROR_MCE_CE] = "corrected: logged in the bank, no machine check exception",
        [SERROR_MCE_UCNA] = "uncorrected, no action required: logged in the bank, no machine check exception",
        [SERROR_MCE_SRAO] = "software recoverable, action optional: #MC",
        [SERROR_MCE_SRAR] = "software recoverable, action required: #MC",
        [SERROR_MCE_FATAL] = "fatal: #MC the guest cannot recover from",
};

static const char *const mcip_names[_SERROR_MCIP_MAX] = {
        [SERROR_MCIP_CLEAR] = "clear",
        [SERROR_MCIP_SET] = "set",
        [SERROR_MCIP_UNKNOWN] = "unknown",
};


static const struct mce_preset *preset_find(TextSlice name) {
        for (size_t i = 0; i < ELEMENTSOF(presets); i++)
                if (slice_is(name, presets[i].name))
                        return &presets[i];
        return NULL;
}

static const struct mce_flag *flag_find(TextSlice name) {
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (slice_is(name, flags[i].name))
                        return &flags[i];
        return NULL;
}

static bool has_prefix(const char *text) {
        for (size_t i = 0; i < strlen(MCE_PREFIX); i++)
                if (ascii_tolower(text[i]) != MCE_PREFIX[i])
                        return false;
        return true;
}

/* The first item, for the texts that may leave out "mce:". */
static TextSlice first_item(const char *text) {
        return slice_trim((TextSlice) { text, strcspn(text, ",") });
}

bool serror_mce_text_is_mce(const char *text) {
        const struct mce_preset *p;

        if (!text)
                return false;
        if (has_prefix(text))
                return true;
        p = preset_find(first_item(text));
        return p && p->alone;
}

static int parse_number(TextSlice key, TextSlice value, uint64_t *ret, serror_diag *diag) {
        char buf[ITEM_VALUE_MAX + 1];
        int r;

        if (value.length > ITEM_VALUE_MAX)
                return diag_fail(diag, -EINVAL, "%.*s= is too long: %zu characters", (int) key.length, key.start, value.length);
        memcpy(buf, value.start, value.length);
        buf[value.length] = '\0';
        r = parse_u64(buf, ret);
        if (r == -ERANGE)
                return diag_fail(diag, -EINVAL, "%.*s=%s does not fit in 64 bits", (int) key.length, key.start, buf);
        if (r < 0)
                return diag_fail(diag, -EINVAL, "invalid %.*s='%s': expected a number such as 0x1000", (int) key.length,
                                 key.start, buf);
        return 0;
}

/* key=value items. */
static int apply_assignment(serror_mce *m, TextSlice key, TextSlice value, serror_diag *diag) {
        uint64_t v;
        int r;

        if (!slice_is(key, "bank") && !slice_is(key, "status") && !slice_is(key, "code") && !slice_is(key, "addr") &&
            !slice_is(key, "misc") && !slice_is(key, "mcg"))
                return diag_fail(diag, -EINVAL,
                                 "unknown item '%.*s=' (known: a preset, bank=, status=, code=, addr=, misc=, mcg=, "
                                 "val, over, uc, en, pcc, s, ar, ripv, eipv, mcip, lmce)",
                                 slice_quote_length(key, ITEM_VALUE_MAX), key.start);
        r = parse_number(key, value, &v, diag);
        if (r < 0)
                return r;

        if (slice_is(key, "bank")) {
                if (v >= SERROR_MCE_BANKS_MAX)
                        return diag_fail(diag, -EINVAL, "bank %" PRIu64 " is beyond the %d banks KVM supports", v,
                                         SERROR_MCE_BANKS_MAX);
                m->bank = (uint32_t) v;
        } else if (slice_is(key, "status"))
                m->status = v;
        else if (slice_is(key, "code")) {
                if (v > SERROR_MCI_CODE_MASK)
                        return diag_fail(diag, -EINVAL, "code 0x%" PRIx64 " is wider than the 16-bit MCA error code (use status=)",
                                         v);
                m->status = (m->status & ~SERROR_MCI_CODE_MASK) | v;
        } else if (slice_is(key, "addr")) {
                m->addr = v;
                m->status |= SERROR_MCI_ADDRV;
        } else if (slice_is(key, "misc")) {
                m->misc = v;
                m->status |= SERROR_MCI_MISCV;
        } else
                m->mcg_status = v;
        return 0;
}

/* Words without '=': a preset (first only) or a flag. */
static int apply_word(serror_mce *m, TextSlice word, bool first, serror_diag *diag) {
        const struct mce_preset *preset = preset_find(word);
        const struct mce_flag *flag;

        if (preset) {
                if (!first)
                        return diag_fail(diag, -EINVAL, "the preset '%s' must come first: it sets the whole machine check",
                                         preset->name);
                m->status = preset->status;
                m->mcg_status = preset->mcg_status;
                return 0;
        }
        flag = flag_find(word);
        if (!flag)
                return diag_fail(diag, -EINVAL,
                                 "unknown item '%.*s' (known: a preset, bank=, status=, code=, addr=, misc=, mcg=, "
                                 "val, over, uc, en, pcc, s, ar, ripv, eipv, mcip, lmce)",
                                 slice_quote_length(word, ITEM_VALUE_MAX), word.start);
        if (flag->in_mcg)
                m->mcg_status |= flag->bit;
        else
                m->status |= flag->bit;
        return 0;
}

int serror_mce_parse(const char *text, serror_mce *ret, serror_diag *diag) {
        /* Without a preset the items complete a valid, enabled error. */
        serror_mce m = {
                .bank = DEFAULT_BANK,
                .status = SERROR_MCI_VAL | SERROR_MCI_EN,
        };
        const char *p;
        bool first = true;
        int r;

        if (!ret)
                return -EINVAL;
        if (!text || !*text)
                return diag_fail(diag, -EINVAL, "empty machine check (write mce:... or srao, srar, ucna, fatal)");
        if (has_prefix(text))
                p = text + strlen(MCE_PREFIX);
        else if (serror_mce_text_is_mce(text))
                p = text;
        else
                return diag_fail(diag, -EINVAL, "'%.60s' is not a machine check (write mce:... or srao, srar, ucna, fatal)", text);
        if (slice_trim((TextSlice) { p, strlen(p) }).length == 0)
                return diag_fail(diag, -EINVAL, "nothing after mce: (a preset such as srao, or items such as uc,s,code=0x134)");

        for (;;) {
                size_t len = strcspn(p, ",");
                TextSlice item = slice_trim((TextSlice) { p, len });
                const char *eq = memchr(item.start, '=', item.length);

                if (item.length == 0)
                        return diag_fail(diag, -EINVAL, "empty item in '%.60s'", text);
                if (eq) {
                        TextSlice key = slice_trim((TextSlice) { item.start, (size_t) (eq - item.start) });
                        TextSlice value = slice_trim(
                                (TextSlice) { eq + 1, item.length - (size_t) (eq - item.start) - 1 });

                        r = apply_assignment(&m, key, value, diag);
                } else
                        r = apply_word(&m, item, first, diag);
                if (r < 0)
                        return r;
                first = false;
                if (!p[len])
                        break;
                p += len + 1;
        }

        r = serror_mce_validate(&m, diag);
        if (r < 0)
                return r;
        *ret = m;
        return 0;
}

int serror_mce_validate(const serror_mce *m, serror_diag *diag) {
        uint64_t s;

        if (!m)
                return -EINVAL;
        s = m->status;
        /* The two refusals KVM_X86_SET_MCE itself makes (DOMAIN.md 8). */
        if (m->bank >= SERROR_MCE_BANKS_MAX)
                return diag_fail(diag, -EINVAL, "bank %" PRIu32 " is beyond the %d banks KVM supports", m->bank,
                                 SERROR_MCE_BANKS_MAX);
        if (!(s & SERROR_MCI_VAL))
                return diag_fail(diag, -EINVAL, "status 0x%016" PRIx64 " without VAL (bit 63) holds no error", s);
        /* SDM: PCC, S and AR describe uncorrected errors; AR only a signalled one. */
        if ((s & SERROR_MCI_PCC) && !(s & SERROR_MCI_UC))
                return diag_fail(diag, -EINVAL, "pcc (processor context corrupt) needs uc: a corrected error corrupts nothing");
        if ((s & SERROR_MCI_S) && !(s & SERROR_MCI_UC))
                return diag_fail(diag, -EINVAL, "s (signalled) needs uc: corrected errors raise no machine check");
        if ((s & SERROR_MCI_AR) && !(s & SERROR_MCI_S))
                return diag_fail(diag, -EINVAL, "ar (action required) needs s and uc");
        /* A guest ignores ADDR and MISC without their valid bits: a value
         * there would be injected and never seen. */
        if (m->addr && !(s & SERROR_MCI_ADDRV))
                return diag_fail(diag, -EINVAL, "addr 0x%" PRIx64 " with a status whose ADDRV (bit 58) is clear", m->addr);
        if (m->misc && !(s & SERROR_MCI_MISCV))
                return diag_fail(diag, -EINVAL, "misc 0x%" PRIx64 " with a status whose MISCV (bit 59) is clear", m->misc);
        if (m->mcg_status & ~SERROR_MCG_KNOWN_MASK)
                return diag_fail(diag, -EINVAL, "mcg 0x%" PRIx64 " has bits other than RIPV, EIPV, MCIP and LMCE_S",
                                 m->mcg_status);
        /* KVM's corrected path writes the bank only; MCG_STATUS given with it
         * would never reach the guest. */
        if (m->mcg_status && !(s & SERROR_MCI_UC))
                return diag_fail(diag, -EINVAL,
                                 "mcg 0x%" PRIx64 " with a corrected error: KVM writes MCG_STATUS only for an "
                                 "uncorrected one",
                                 m->mcg_status);
        return 0;
}

int serror_mce_format(const serror_mce *m, char *buf, size_t size) {
        char addr[32] = "", misc[32] = "";

        if (!m || (!buf && size > 0))
                return -EINVAL;
        /* ADDR and MISC only where the status says they are valid. */
        if (m->status & SERROR_MCI_ADDRV)
                (void) snprintf(addr, sizeof(addr), ",addr=0x%" PRIx64, m->addr);
        if (m->status & SERROR_MCI_MISCV)
                (void) snprintf(misc, sizeof(misc), ",misc=0x%" PRIx64, m->misc);
        return snprintf(buf, size, MCE_PREFIX "status=0x%016" PRIx64 ",bank=%" PRIu32 "%s%s,mcg=0x%" PRIx64,
                        m->status, m->bank, addr, misc, m->mcg_status);
}

int serror_mce_status_decode(uint64_t status, serror_mce_status_fields *ret) {
        if (!ret)
                return -EINVAL;
        *ret = (serror_mce_status_fields) {
                .val = status & SERROR_MCI_VAL,
                .over = status & SERROR_MCI_OVER,
                .uc = status & SERROR_MCI_UC,
                .en = status & SERROR_MCI_EN,
                .miscv = status & SERROR_MCI_MISCV,
                .addrv = status & SERROR_MCI_ADDRV,
                .pcc = status & SERROR_MCI_PCC,
                .s = status & SERROR_MCI_S,
                .ar = status & SERROR_MCI_AR,
                .mca_code = (uint16_t) (status & SERROR_MCI_CODE_MASK),
                .model_code = (uint16_t) ((status & SERROR_MCI_MSCOD_MASK) >> SERROR_MCI_MSCOD_SHIFT),
                .other_info = (uint8_t) ((status & SERROR_MCI_OTHER_MASK) >> SERROR_MCI_OTHER_SHIFT),
                .corrected_count = (uint16_t) ((status & SERROR_MCI_COUNT_MASK) >> SERROR_MCI_COUNT_SHIFT),
                .threshold = (uint8_t) ((status & SERROR_MCI_THRESHOLD_MASK) >> SERROR_MCI_THRESHOLD_SHIFT),
        };
        return 0;
}

const char *serror_mce_status_bit_name(unsigned bit) {
        return bit < ELEMENTSOF(status_bit_names) ? status_bit_names[bit] : NULL;
}

const char *serror_mce_mcg_bit_name(unsigned bit) {
        return bit < ELEMENTSOF(mcg_bit_names) ? mcg_bit_names[bit] : NULL;
}

/* ------------------------------------------------------------------ MCA error codes */

/* SDM vol. 3B, "Interpreting the MCA Error Codes": the simple codes and the
 * sub-fields of the compound ones. */
static const char *const code_levels[4] = { "level 0", "level 1", "level 2", "generic level" };
static const char *const code_transactions[4] = { "instruction", "data", "generic", "reserved transaction type" };
static const char *const code_requests[16] = {
        "generic error", "generic read", "generic write", "data read", "data write",
        "instruction fetch", "prefetch", "eviction", "snoop",
};
static const char *const code_memory_transactions[8] = {
        "generic undefined request", "memory read", "memory write", "address/command", "memory scrubbing",
};
static const char *const code_participations[4] = {
        "local processor originated the request", "local processor responded to the request",
        "local processor observed the error as a third party", "generic participation",
};
static const char *const code_memory_or_io[4] = { "memory access", "reserved", "I/O", "other transaction" };

static const char *table_entry(const char *const *table, unsigned index) {
        return table[index] ? table[index] : "reserved";
}

int serror_mce_code_describe(uint16_t code, char *buf, size_t size) {
        /* F, bit 12 of a compound code: corrected reports are filtered. */
        const char *filtered = (code & 0x1000) ? ", corrected reports filtered" : "";
        unsigned c = code & ~0x1000u;

        if (!buf && size > 0)
                return -EINVAL;
        switch (code) {
        case 0x0000:
                return snprintf(buf, size, "no error");
        case 0x0001:
                return snprintf(buf, size, "unclassified");
        case 0x0002:
                return snprintf(buf, size, "microcode ROM parity error");
        case 0x0003:
                return snprintf(buf, size, "external error (BINIT# from another processor)");
        case 0x0004:
                return snprintf(buf, size, "functional redundancy check error");
        case 0x0005:
                return snprintf(buf, size, "internal parity error");
        case 0x0006:
                return snprintf(buf, size, "SMM handler code access violation");
        case 0x0400:
                return snprintf(buf, size, "internal timer error");
        case 0x0e0b:
                return snprintf(buf, size, "I/O error");
        }
        if ((code & 0xfc00) == 0x0400)
                return snprintf(buf, size, "internal unclassified");
        /* Every compound form has bits 15:13 clear. */
        if (code & 0xe000)
                return snprintf(buf, size, "reserved encoding");
        if ((c & 0xfffc) == 0x000c)
                return snprintf(buf, size, "generic memory hierarchy: %s%s", code_levels[c & 3], filtered);
        if ((c & 0xfff0) == 0x0010)
                return snprintf(buf, size, "TLB: %s, %s%s", code_transactions[(c >> 2) & 3], code_levels[c & 3],
                                filtered);
        if ((c & 0xff80) == 0x0080) {
                unsigned channel = c & 0xf;
                char channel_text[24];

                if (channel == 0xf)
                        (void) snprintf(channel_text, sizeof(channel_text), "channel not specified");
                else
                        (void) snprintf(channel_text, sizeof(channel_text), "channel %u", channel);
                return snprintf(buf, size, "memory controller: %s, %s%s",
                                table_entry(code_memory_transactions, (c >> 4) & 7), channel_text, filtered);
        }
        if ((c & 0xff00) == 0x0100)
                return snprintf(buf, size, "cache hierarchy: %s, %s, %s%s", table_entry(code_requests, (c >> 4) & 0xf),
                                code_transactions[(c >> 2) & 3], code_levels[c & 3], filtered);
        if ((c & 0xf800) == 0x0800)
                return snprintf(buf, size, "bus and interconnect: %s, %s, %s, %s%s%s",
                                code_participations[(c >> 9) & 3], table_entry(code_requests, (c >> 4) & 0xf),
                                code_memory_or_io[(c >> 2) & 3], code_levels[c & 3],
                                (c & 0x100) ? ", timed out" : "", filtered);
        return snprintf(buf, size, "reserved encoding");
}

/* ------------------------------------------------------------------ classes */

int serror_mce_severity(const serror_mce *m) {
        if (!m || serror_mce_validate(m, NULL) < 0)
                return SERROR_SEVERITY_UC;
        switch (serror_mce_classify(m)) {
        case SERROR_MCE_CE:
                return SERROR_SEVERITY_CE;
        case SERROR_MCE_UCNA:
        case SERROR_MCE_SRAO:
                return SERROR_SEVERITY_UEO;
        case SERROR_MCE_SRAR:
                return SERROR_SEVERITY_UER;
        default:
                return SERROR_SEVERITY_UC;
        }
}

bool serror_mce_raises_mc(const serror_mce *m) {
        /* KVM's is_ucna(): such an error is logged (and signalled by CMCI
         * when the guest enabled it), never raised as a #MC. Before Linux 6.0
         * KVM raised a #MC for every uncorrected error. */
        bool ucna = !(m->status & (SERROR_MCI_PCC | SERROR_MCI_S | SERROR_MCI_AR)) && m->mcg_status == 0;

        return (m->status & SERROR_MCI_UC) && !ucna;
}

serror_mce_class serror_mce_classify(const serror_mce *m) {
        if (!(m->status & SERROR_MCI_UC))
                return SERROR_MCE_CE;
        if (!serror_mce_raises_mc(m))
                return SERROR_MCE_UCNA;
        /* The PANIC rows of Linux's severity table that a single injected
         * machine check can hit, and a #MC that is not a UCR error (no S),
         * which has no recovery path. */
        if ((m->status & SERROR_MCI_PCC) || !(m->mcg_status & SERROR_MCG_RIPV) ||
            !(m->mcg_status & SERROR_MCG_MCIP) || !(m->status & SERROR_MCI_S))
                return SERROR_MCE_FATAL;
        return (m->status & SERROR_MCI_AR) ? SERROR_MCE_SRAR : SERROR_MCE_SRAO;
}

const char *serror_mce_class_to_string(serror_mce_class c) {
        return (unsigned) c < _SERROR_MCE_CLASS_MAX ? class_names[c] : NULL;
}

const char *serror_mce_class_describe(serror_mce_class c) {
        return (unsigned) c < _SERROR_MCE_CLASS_MAX ? class_descriptions[c] : NULL;
}

const char *serror_mcip_to_string(serror_mcip mcip) {
        return (unsigned) mcip < _SERROR_MCIP_MAX ? mcip_names[mcip] : NULL;
}

/* ------------------------------------------------------------------ the MCIP rule (mce.h) */

int serror_mce_decide(serror_mcip mcip, const serror_mce *incoming, serror_mode mode, serror_mce_decision *ret) {
        serror_mce_decision d = { .action = SERROR_ACTION_WRITE, .outcome = SERROR_OUTCOME_INJECTED };
        bool corrected;

        if (!ret || !incoming || (unsigned) mcip >= _SERROR_MCIP_MAX || (unsigned) mode >= _SERROR_MODE_MAX)
                return -EINVAL;
        corrected = !(incoming->status & SERROR_MCI_UC);

        if (mcip == SERROR_MCIP_CLEAR)
                d.reason = "MCIP is clear: no machine check in progress";
        else if (corrected)
                d.reason = "a corrected error is only logged in its bank; the machine check in progress is left alone";
        else {
                if (serror_mce_raises_mc(incoming))
                        d.reason = mcip == SERROR_MCIP_SET
                                           ? "a #MC while MCIP is set would shut the guest down"
                                           : "MCIP unknown: a #MC while it is set would shut the guest down";
                else
                        d.reason = mcip == SERROR_MCIP_SET
                                           ? "a UCNA would set MCG_STATUS to 0 under the guest's machine-check handler"
                                           : "MCIP unknown: a UCNA would set MCG_STATUS to 0 under a handler";
                switch (mode) {
                case SERROR_MODE_MERGE:
                        d.action = SERROR_ACTION_NONE;
                        d.outcome = SERROR_OUTCOME_COALESCED;
                        break;
                case SERROR_MODE_DEFER:
                        d.action = SERROR_ACTION_WAIT;
                        d.outcome = SERROR_OUTCOME_DEFERRED;
                        break;
                default:
                        d.action = SERROR_ACTION_NONE;
                        d.outcome = SERROR_OUTCOME_SKIPPED;
                        break;
                }
        }
        *ret = d;
        return 0;
}
