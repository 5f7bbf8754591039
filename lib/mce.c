/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse-util.h"
#include "serror/mce.h"

#define MCE_PREFIX "mce:"

/* The values measured with KVM_X86_SET_MCE in DOMAIN.md section 8. */
static const struct preset {
        const char *name;
        uint64_t status;
        uint64_t mcg_status;
        bool alone; /* may be written without "mce:" */
} presets[] = {
        { "ce", 0x9c00000000000001, 0, false },
        { "ucna", 0xbc00000000000010, 0, true },
        { "srao", 0xbd000000000000c0, SERROR_MCG_RIPV | SERROR_MCG_MCIP, true },
        { "srar", 0xbd80000000000134, SERROR_MCG_RIPV | SERROR_MCG_EIPV | SERROR_MCG_MCIP, true },
        /* Processor context corrupt, no valid restart IP. */
        { "fatal", 0xb200000000000000, SERROR_MCG_EIPV | SERROR_MCG_MCIP, true },
};

static const struct flag {
        const char *name;
        uint64_t bit;
        bool mcg;
} flags[] = {
        { "over", SERROR_MCI_OVER, false }, { "uc", SERROR_MCI_UC, false }, { "en", SERROR_MCI_EN, false },
        { "pcc", SERROR_MCI_PCC, false },   { "s", SERROR_MCI_S, false },   { "ar", SERROR_MCI_AR, false },
        { "ripv", SERROR_MCG_RIPV, true },  { "eipv", SERROR_MCG_EIPV, true }, { "mcip", SERROR_MCG_MCIP, true },
};

_printf_(2, 3) static int fail(serror_diag *diag, const char *fmt, ...) {
        va_list ap;

        if (diag) {
                va_start(ap, fmt);
                vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static const struct preset *find_preset(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(presets); i++)
                if (strlen(presets[i].name) == len && strncasecmp(presets[i].name, name, len) == 0)
                        return &presets[i];
        return NULL;
}

bool serror_mce_text_is_mce(const char *text) {
        const struct preset *p;

        if (!text)
                return false;
        if (strncasecmp(text, MCE_PREFIX, strlen(MCE_PREFIX)) == 0)
                return true;
        p = find_preset(text, strlen(text));
        return p && p->alone;
}

int serror_mce_validate(const serror_mce *m, serror_diag *diag) {
        uint64_t s = m->status;

        if (m->bank >= SERROR_MCE_BANKS_MAX)
                return fail(diag, "bank %" PRIu32 " is beyond the %d banks KVM supports", m->bank, SERROR_MCE_BANKS_MAX);
        if (!(s & SERROR_MCI_VAL))
                return fail(diag, "status 0x%016" PRIx64 " without VAL (bit 63) holds no error", s);
        if ((s & SERROR_MCI_PCC) && !(s & SERROR_MCI_UC))
                return fail(diag, "pcc (processor context corrupt) needs uc: a corrected error corrupts nothing");
        if ((s & SERROR_MCI_S) && !(s & SERROR_MCI_UC))
                return fail(diag, "s (signalled) needs uc: corrected errors raise no machine check");
        if ((s & SERROR_MCI_AR) && !(s & SERROR_MCI_S))
                return fail(diag, "ar (action required) needs s and uc");
        if (m->addr && !(s & SERROR_MCI_ADDRV))
                return fail(diag, "addr 0x%" PRIx64 " with a status whose ADDRV is clear", m->addr);
        if (m->misc && !(s & SERROR_MCI_MISCV))
                return fail(diag, "misc 0x%" PRIx64 " with a status whose MISCV is clear", m->misc);
        if (m->mcg_status & ~(SERROR_MCG_RIPV | SERROR_MCG_EIPV | SERROR_MCG_MCIP))
                return fail(diag, "MCG_STATUS 0x%" PRIx64 " has bits other than RIPV, EIPV and MCIP", m->mcg_status);
        return 0;
}

static int parse_value(const char *item, size_t len, const char *key, uint64_t *ret, serror_diag *diag) {
        char buf[64];
        uint64_t v;

        if (len - strlen(key) >= sizeof(buf))
                return fail(diag, "%s is too long", key);
        memcpy(buf, item + strlen(key), len - strlen(key));
        buf[len - strlen(key)] = '\0';
        if (parse_u64(buf, &v) < 0)
                return fail(diag, "invalid %s'%s': expected a number such as 0x1000", key, buf);
        *ret = v;
        return 0;
}

static bool has_key(const char *item, size_t len, const char *key) {
        size_t k = strlen(key);
        return len >= k && strncasecmp(item, key, k) == 0;
}

int serror_mce_parse(const char *text, serror_mce *ret, serror_diag *diag) {
        serror_mce m = { .bank = 1 };
        const char *p;
        bool first = true;
        int r;

        if (!text || !*text)
                return fail(diag, "empty machine check");
        if (strncasecmp(text, MCE_PREFIX, strlen(MCE_PREFIX)) == 0)
                p = text + strlen(MCE_PREFIX);
        else if (serror_mce_text_is_mce(text))
                p = text;
        else
                return fail(diag, "'%.60s' is not a machine check (write mce:... or srao, srar, ucna, fatal)", text);
        if (!*p)
                return fail(diag, "nothing after mce: (a preset such as srao, or status=0x...)");

        /* No preset: start from an uncorrected, enabled, valid error the
         * items below complete. */
        m.status = SERROR_MCI_VAL | SERROR_MCI_EN;
        for (;;) {
                size_t len = strcspn(p, ",");
                const struct preset *pre = find_preset(p, len);
                uint64_t v;
                bool known = false;

                if (len == 0)
                        return fail(diag, "empty item in '%.60s'", text);
                if (pre) {
                        if (!first)
                                return fail(diag, "the preset '%s' must come first", pre->name);
                        m.status = pre->status;
                        m.mcg_status = pre->mcg_status;
                        known = true;
                }
                for (size_t i = 0; !known && i < ELEMENTSOF(flags); i++)
                        if (strlen(flags[i].name) == len && strncasecmp(flags[i].name, p, len) == 0) {
                                if (flags[i].mcg)
                                        m.mcg_status |= flags[i].bit;
                                else
                                        m.status |= flags[i].bit;
                                known = true;
                        }
                if (!known && has_key(p, len, "bank=")) {
                        if ((r = parse_value(p, len, "bank=", &v, diag)) < 0)
                                return r;
                        if (v >= SERROR_MCE_BANKS_MAX)
                                return fail(diag, "bank %" PRIu64 " is beyond the %d banks KVM supports", v,
                                            SERROR_MCE_BANKS_MAX);
                        m.bank = (uint32_t) v;
                        known = true;
                } else if (!known && has_key(p, len, "status=")) {
                        if ((r = parse_value(p, len, "status=", &v, diag)) < 0)
                                return r;
                        m.status = v;
                        known = true;
                } else if (!known && has_key(p, len, "code=")) {
                        if ((r = parse_value(p, len, "code=", &v, diag)) < 0)
                                return r;
                        if (v > SERROR_MCI_CODE_MASK)
                                return fail(diag, "code 0x%" PRIx64 " is wider than the 16-bit MCA error code", v);
                        m.status = (m.status & ~SERROR_MCI_CODE_MASK) | v;
                        known = true;
                } else if (!known && has_key(p, len, "addr=")) {
                        if ((r = parse_value(p, len, "addr=", &m.addr, diag)) < 0)
                                return r;
                        m.status |= SERROR_MCI_ADDRV;
                        known = true;
                } else if (!known && has_key(p, len, "misc=")) {
                        if ((r = parse_value(p, len, "misc=", &m.misc, diag)) < 0)
                                return r;
                        m.status |= SERROR_MCI_MISCV;
                        known = true;
                } else if (!known && has_key(p, len, "mcg=")) {
                        if ((r = parse_value(p, len, "mcg=", &m.mcg_status, diag)) < 0)
                                return r;
                        known = true;
                }
                if (!known)
                        return fail(diag, "unknown item '%.*s' (known: a preset, bank=, status=, code=, addr=, misc=, "
                                    "mcg=, over, uc, en, pcc, s, ar, ripv, eipv, mcip)", (int) (len > 40 ? 40 : len), p);
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

int serror_mce_format(const serror_mce *m, char *buf, size_t size) {
        char addr[32] = "", misc[32] = "";

        /* ADDR and MISC only where the status says they are valid. */
        if (m->status & SERROR_MCI_ADDRV)
                snprintf(addr, sizeof(addr), ",addr=0x%" PRIx64, m->addr);
        if (m->status & SERROR_MCI_MISCV)
                snprintf(misc, sizeof(misc), ",misc=0x%" PRIx64, m->misc);
        return snprintf(buf, size, "mce:status=0x%016" PRIx64 ",bank=%" PRIu32 "%s%s,mcg=0x%" PRIx64, m->status,
                        m->bank, addr, misc, m->mcg_status);
}

bool serror_mce_raises_mc(const serror_mce *m) {
        /* KVM logs an uncorrected error without PCC, S, AR and MCG_STATUS as
         * UCNA, without a #MC. */
        bool ucna = !(m->status & (SERROR_MCI_PCC | SERROR_MCI_S | SERROR_MCI_AR)) && m->mcg_status == 0;

        return (m->status & SERROR_MCI_UC) && !ucna;
}

serror_mce_class serror_mce_classify(const serror_mce *m) {
        if (!(m->status & SERROR_MCI_UC))
                return SERROR_MCE_CE;
        if (!serror_mce_raises_mc(m))
                return SERROR_MCE_UCNA;
        if ((m->status & SERROR_MCI_PCC) || !(m->mcg_status & SERROR_MCG_RIPV) || !(m->status & SERROR_MCI_S))
                return SERROR_MCE_FATAL;
        return (m->status & SERROR_MCI_AR) ? SERROR_MCE_SRAR : SERROR_MCE_SRAO;
}

const char *serror_mce_class_to_string(serror_mce_class c) {
        static const char *const names[] = {
                [SERROR_MCE_CE] = "ce",     [SERROR_MCE_UCNA] = "ucna", [SERROR_MCE_SRAO] = "srao",
                [SERROR_MCE_SRAR] = "srar", [SERROR_MCE_FATAL] = "fatal",
        };
        return (unsigned) c < ELEMENTSOF(names) ? names[c] : NULL;
}

int serror_mce_decide(bool mcip_set, const serror_mce *incoming, serror_mode mode, serror_decision *ret) {
        serror_decision d = {};

        if (!ret || !incoming || (unsigned) mode >= _SERROR_MODE_MAX)
                return -EINVAL;
        if (!mcip_set || !serror_mce_raises_mc(incoming)) {
                d.action = SERROR_ACTION_WRITE;
                d.outcome = SERROR_OUTCOME_INJECTED;
        } else if (mode == SERROR_MODE_MERGE) {
                d.action = SERROR_ACTION_NONE;
                d.outcome = SERROR_OUTCOME_COALESCED;
        } else if (mode == SERROR_MODE_DEFER) {
                d.action = SERROR_ACTION_WAIT;
                d.outcome = SERROR_OUTCOME_DEFERRED;
        } else {
                d.action = SERROR_ACTION_NONE;
                d.outcome = SERROR_OUTCOME_SKIPPED;
        }
        *ret = d;
        return 0;
}
