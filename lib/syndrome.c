/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SError syndrome model: text form, validation, ISS/ESR encoding and the multiple-SError decision. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "text-util.h"
#include "macro.h"
#include "serror/syndrome.h"

#define ESR_EC_MASK (UINT32_C(0x3f) << SERROR_ESR_EC_SHIFT)
#define ESR_SERROR_BASE (((uint32_t) SERROR_ESR_EC_SERROR << SERROR_ESR_EC_SHIFT) | SERROR_ESR_IL)
#define AET_CODE_MAX 7u
#define DFSC_CODE_MAX 0x3fu
#define KNOWN_FLAGS ((unsigned) SERROR_ALLOW_IDS)

/* Longest piece of user text quoted back in a diag message, so the message
 * keeps room for the explanation. */
#define QUOTE_MAX 40

#define AET_VALID_NAMES "UC, UEU, UEO, UER, CE"
#define DFSC_VALID_VALUES "0x00 uncategorized, 0x11 async"
#define IDS_OPT_IN_REASON \
        "needs explicit opt-in (SERROR_ALLOW_IDS): the documented KVM ABI takes ISS[23:0] only"

static const struct aet_entry {
        const char *name;        /* as serror_aet_to_string() returns it */
        const char *token;       /* as the text form writes it */
        const char *description;
} aet_table[AET_CODE_MAX + 1] = {
        [SERROR_AET_UC] = { "UC", "uc", "uncontainable" },
        [SERROR_AET_UEU] = { "UEU", "ueu", "unrecoverable state" },
        [SERROR_AET_UEO] = { "UEO", "ueo", "restartable state" },
        [SERROR_AET_UER] = { "UER", "uer", "recoverable state" },
        [SERROR_AET_CE] = { "CE", "ce", "corrected" },
};

static const char *const mode_table[_SERROR_MODE_MAX] = {
        [SERROR_MODE_MERGE] = "merge",
        [SERROR_MODE_DEFER] = "defer",
        [SERROR_MODE_SKIP] = "skip",
};

static const char *const outcome_table[_SERROR_OUTCOME_MAX] = {
        [SERROR_OUTCOME_INJECTED] = "injected",
        [SERROR_OUTCOME_MERGED] = "merged",
        [SERROR_OUTCOME_COALESCED] = "coalesced",
        [SERROR_OUTCOME_DEFERRED] = "deferred",
        [SERROR_OUTCOME_SKIPPED] = "skipped",
        [SERROR_OUTCOME_EXPIRED] = "expired",
        [SERROR_OUTCOME_FAILED] = "failed",
        [SERROR_OUTCOME_DRY_RUN] = "dry-run",
};


static int digit_value(char c) {
        c = ascii_tolower(c);
        if (ascii_isdigit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Hex with a 0x prefix, or decimal (a leading 0 does not mean octal). No sign,
 * nothing after the digits. -EINVAL if it is not a number, -ERANGE if it does
 * not fit in 32 bits. */
static int slice_to_u32(TextSlice s, uint32_t *ret) {
        uint64_t value = 0;
        unsigned base = 10;
        size_t i = 0;

        if (s.length >= 2 && s.start[0] == '0' && ascii_tolower(s.start[1]) == 'x') {
                base = 16;
                i = 2;
        }
        if (i >= s.length)
                return -EINVAL;

        for (; i < s.length; i++) {
                int digit = digit_value(s.start[i]);

                if (digit < 0 || (unsigned) digit >= base)
                        return -EINVAL;
                value = value * base + (unsigned) digit;
                if (value > UINT32_MAX)
                        return -ERANGE;
        }

        *ret = (uint32_t) value;
        return 0;
}

/* "0b101": how the Arm ARM writes AET codes. */
static const char *aet_code_to_bits(unsigned code, char buf[static 6]) {
        buf[0] = '0';
        buf[1] = 'b';
        buf[2] = (char) ('0' + ((code >> 2) & 1));
        buf[3] = (char) ('0' + ((code >> 1) & 1));
        buf[4] = (char) ('0' + (code & 1));
        buf[5] = '\0';
        return buf;
}

static bool aet_is_reserved(unsigned code) {
        return code > AET_CODE_MAX || !aet_table[code].name;
}

static int check_flags(unsigned flags, serror_diag *diag) {
        if (flags & ~KNOWN_FLAGS)
                return diag_fail(diag, -EINVAL, "unknown flags 0x%x (known: SERROR_ALLOW_IDS 0x%x)", flags & ~KNOWN_FLAGS,
                                 KNOWN_FLAGS);
        return 0;
}

static int check_aet_code(unsigned code, serror_diag *diag) {
        char bits[6];

        if (code > AET_CODE_MAX)
                return diag_fail(diag, -EINVAL, "AET %u does not fit in 3 bits (valid: " AET_VALID_NAMES ")", code);
        if (aet_is_reserved(code))
                return diag_fail(diag, -EINVAL, "AET %s is reserved (valid: " AET_VALID_NAMES ")", aet_code_to_bits(code, bits));
        return 0;
}

static int check_dfsc_code(unsigned code, serror_diag *diag) {
        if (code > DFSC_CODE_MAX)
                return diag_fail(diag, -EINVAL, "DFSC 0x%x does not fit in 6 bits (valid: " DFSC_VALID_VALUES ")", code);
        if (code != SERROR_DFSC_UNCATEGORIZED && code != SERROR_DFSC_ASYNC)
                return diag_fail(diag, -EINVAL, "DFSC 0x%02x is reserved (valid: " DFSC_VALID_VALUES ")", code);
        return 0;
}

int serror_syndrome_validate(const serror_syndrome *s, unsigned flags, serror_diag *diag) {
        unsigned aet_code, dfsc_code;
        char bits[6];
        int r;

        if (!s)
                return diag_fail(diag, -EINVAL, "no syndrome given");
        r = check_flags(flags, diag);
        if (r < 0)
                return r;

        aet_code = (unsigned) s->aet;
        dfsc_code = (unsigned) s->dfsc;

        if (s->ids) {
                if (!(flags & SERROR_ALLOW_IDS))
                        return diag_fail(diag, -EINVAL, "IDS=1 (impdef=0x%06" PRIx32 ") " IDS_OPT_IN_REASON, s->impdef);
                if (s->impdef & ~SERROR_ISS_IMPDEF_MASK)
                        return diag_fail(diag, -EINVAL, "IDS impdef 0x%" PRIx32 " does not fit in ISS[23:0] (24 bits)",
                                         s->impdef);
                /* With IDS=1 the architecture gives ISS[23:0] no fields; one
                 * representation per ISS keeps equality meaningful. */
                if (aet_code != 0)
                        return diag_fail(diag, -EINVAL, "AET %s set with IDS=1; with IDS=1 only impdef (ISS[23:0]) "
                                         "carries meaning", aet_code <= AET_CODE_MAX ?
                                         aet_code_to_bits(aet_code, bits) : "beyond 3 bits");
                if (s->iesb)
                        return diag_fail(diag, -EINVAL, "IESB set with IDS=1; with IDS=1 only impdef (ISS[23:0]) "
                                         "carries meaning");
                if (s->ea)
                        return diag_fail(diag, -EINVAL, "EA set with IDS=1; with IDS=1 only impdef (ISS[23:0]) carries meaning");
                if (dfsc_code != 0)
                        return diag_fail(diag, -EINVAL, "DFSC 0x%02x set with IDS=1; with IDS=1 only impdef (ISS[23:0]) "
                                         "carries meaning", dfsc_code);
                return 0;
        }

        if (s->impdef != 0)
                return diag_fail(diag, -EINVAL, "impdef 0x%" PRIx32 " set with IDS=0; impdef carries meaning only with IDS=1",
                                 s->impdef);

        r = check_dfsc_code(dfsc_code, diag);
        if (r < 0)
                return r;
        r = check_aet_code(aet_code, diag);
        if (r < 0)
                return r;

        /* Arm ARM, ISS encoding for an SError interrupt: AET and IESB are
         * defined only when DFSC is 0b010001, RES0 otherwise. */
        if (s->dfsc == SERROR_DFSC_UNCATEGORIZED) {
                if (s->aet != SERROR_AET_UC)
                        return diag_fail(diag, -EINVAL, "AET %s (%s) is valid only with DFSC 0b010001 (async), "
                                         "not with DFSC 0b000000 (uncategorized)",
                                         aet_table[aet_code].name, aet_code_to_bits(aet_code, bits));
                if (s->iesb)
                        return diag_fail(diag, -EINVAL, "IESB is valid only with DFSC 0b010001 (async), "
                                         "not with DFSC 0b000000 (uncategorized)");
        }

        return 0;
}

uint32_t serror_syndrome_iss(const serror_syndrome *s) {
        uint32_t iss = 0;

        if (!s)
                return 0;
        if (s->ids)
                return SERROR_ISS_IDS | (s->impdef & SERROR_ISS_IMPDEF_MASK);

        if (s->iesb)
                iss |= SERROR_ISS_IESB;
        iss |= (((uint32_t) s->aet & AET_CODE_MAX) << SERROR_ISS_AET_SHIFT);
        if (s->ea)
                iss |= SERROR_ISS_EA;
        iss |= ((uint32_t) s->dfsc & SERROR_ISS_DFSC_MASK);
        return iss;
}

uint32_t serror_syndrome_esr(const serror_syndrome *s) {
        return ESR_SERROR_BASE | serror_syndrome_iss(s);
}

int serror_syndrome_from_iss(uint32_t iss, unsigned flags, serror_syndrome *ret, serror_diag *diag) {
        serror_syndrome s = {};
        int r;

        r = check_flags(flags, diag);
        if (r < 0)
                return r;
        if (!ret)
                return diag_fail(diag, -EINVAL, "no place to store the decoded ISS");

        if (iss & ~SERROR_ISS_MASK)
                return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " sets bits 0x%" PRIx32 " above bit 24; an ISS has 25 bits",
                                 iss, iss & ~SERROR_ISS_MASK);

        if (iss & SERROR_ISS_IDS) {
                if (!(flags & SERROR_ALLOW_IDS))
                        return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " sets IDS (bit 24): IDS=1 " IDS_OPT_IN_REASON, iss);
                s.ids = true;
                s.impdef = iss & SERROR_ISS_IMPDEF_MASK;
        } else {
                r = check_dfsc_code(iss & SERROR_ISS_DFSC_MASK, diag);
                if (r < 0)
                        return r;
                if (iss & SERROR_ISS_RES0_MASK)
                        return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " sets RES0 bits 0x%" PRIx32 " (RES0 mask 0x%" PRIx32
                                         " when IDS=0)", iss, iss & SERROR_ISS_RES0_MASK, SERROR_ISS_RES0_MASK);

                s.iesb = iss & SERROR_ISS_IESB;
                s.aet = (serror_aet) ((iss & SERROR_ISS_AET_MASK) >> SERROR_ISS_AET_SHIFT);
                s.ea = iss & SERROR_ISS_EA;
                s.dfsc = (serror_dfsc) (iss & SERROR_ISS_DFSC_MASK);
        }

        r = serror_syndrome_validate(&s, flags, diag);
        if (r < 0)
                return r;

        *ret = s;
        return 0;
}

int serror_syndrome_from_esr(uint64_t esr, unsigned flags, serror_syndrome *ret, serror_diag *diag) {
        uint32_t esr32, ec;

        if (esr >> 32)
                return diag_fail(diag, -EINVAL, "ESR 0x%016" PRIx64 " sets bits 63:32; they must be 0 for an SError", esr);

        esr32 = (uint32_t) esr;
        ec = (esr32 & ESR_EC_MASK) >> SERROR_ESR_EC_SHIFT;
        if (ec != SERROR_ESR_EC_SERROR)
                return diag_fail(diag, -EINVAL, "EC 0x%02" PRIx32 " is not SError (0x%02x) in ESR 0x%08" PRIx32, ec,
                                 SERROR_ESR_EC_SERROR, esr32);
        if (!(esr32 & SERROR_ESR_IL))
                return diag_fail(diag, -EINVAL, "IL is 0 in ESR 0x%08" PRIx32 "; an SError ESR has IL=1", esr32);

        return serror_syndrome_from_iss(esr32 & SERROR_ISS_MASK, flags, ret, diag);
}

/* What the text has said so far; every field may be given once. */
typedef struct ParseState {
        unsigned flags;
        unsigned n_fields;
        bool have_aet, have_dfsc, have_iesb, have_ea, have_iss, have_impdef;
        serror_aet aet;
        serror_dfsc dfsc;
        uint32_t iss;
        uint32_t impdef;
} ParseState;

static int parse_set_aet(ParseState *st, serror_aet aet, serror_diag *diag) {
        if (st->have_aet)
                return diag_fail(diag, -EINVAL, "AET given twice: %s, then %s", aet_table[st->aet].name, aet_table[aet].name);
        st->have_aet = true;
        st->aet = aet;
        return 0;
}

static int parse_aet_value(ParseState *st, TextSlice value, serror_diag *diag) {
        uint32_t code;
        int r;

        for (code = 0; code <= AET_CODE_MAX; code++)
                if (aet_table[code].token && slice_is(value, aet_table[code].token))
                        return parse_set_aet(st, (serror_aet) code, diag);

        r = slice_to_u32(value, &code);
        if (r < 0)
                return diag_fail(diag, -EINVAL, "AET '%.*s' is not an error type (valid: " AET_VALID_NAMES ")",
                                 slice_quote_length(value, QUOTE_MAX), value.start);
        r = check_aet_code(code, diag);
        if (r < 0)
                return r;
        return parse_set_aet(st, (serror_aet) code, diag);
}

static int parse_dfsc_value(ParseState *st, TextSlice value, serror_diag *diag) {
        serror_dfsc dfsc;
        uint32_t code;
        int r;

        if (slice_is(value, "uncategorized"))
                dfsc = SERROR_DFSC_UNCATEGORIZED;
        else if (slice_is(value, "async"))
                dfsc = SERROR_DFSC_ASYNC;
        else {
                r = slice_to_u32(value, &code);
                if (r < 0)
                        return diag_fail(diag, -EINVAL, "DFSC '%.*s' is not a fault status code "
                                         "(valid: uncategorized, async, 0x00, 0x11)",
                                         slice_quote_length(value, QUOTE_MAX), value.start);
                r = check_dfsc_code(code, diag);
                if (r < 0)
                        return r;
                dfsc = (serror_dfsc) code;
        }

        if (st->have_dfsc)
                return diag_fail(diag, -EINVAL, "DFSC given twice: %s, then %s", serror_dfsc_to_string(st->dfsc),
                                 serror_dfsc_to_string(dfsc));
        st->have_dfsc = true;
        st->dfsc = dfsc;
        return 0;
}

static int parse_iss_value(ParseState *st, TextSlice value, serror_diag *diag) {
        uint32_t iss;
        int r;

        r = slice_to_u32(value, &iss);
        if (r == -ERANGE)
                return diag_fail(diag, -EINVAL, "ISS '%.*s' does not fit in 32 bits", slice_quote_length(value, QUOTE_MAX), value.start);
        if (r < 0)
                return diag_fail(diag, -EINVAL, "ISS '%.*s' is not a number (hex with 0x, or decimal)",
                                 slice_quote_length(value, QUOTE_MAX), value.start);

        if (st->have_iss)
                return diag_fail(diag, -EINVAL, "ISS given twice: 0x%" PRIx32 ", then 0x%" PRIx32, st->iss, iss);
        st->have_iss = true;
        st->iss = iss;
        return 0;
}

static int parse_impdef_value(ParseState *st, TextSlice value, serror_diag *diag) {
        uint32_t impdef;
        int r;

        r = slice_to_u32(value, &impdef);
        if (r == -ERANGE)
                return diag_fail(diag, -EINVAL, "IDS impdef '%.*s' does not fit in ISS[23:0] (24 bits)",
                                 slice_quote_length(value, QUOTE_MAX), value.start);
        if (r < 0)
                return diag_fail(diag, -EINVAL, "IDS impdef '%.*s' is not a number (hex with 0x, or decimal)",
                                 slice_quote_length(value, QUOTE_MAX), value.start);
        if (impdef & ~SERROR_ISS_IMPDEF_MASK)
                return diag_fail(diag, -EINVAL, "IDS impdef 0x%" PRIx32 " does not fit in ISS[23:0] (24 bits)", impdef);
        if (!(st->flags & SERROR_ALLOW_IDS))
                return diag_fail(diag, -EINVAL, "IDS=1 (impdef=0x%06" PRIx32 ") " IDS_OPT_IN_REASON, impdef);

        if (st->have_impdef)
                return diag_fail(diag, -EINVAL, "IDS impdef given twice: 0x%06" PRIx32 ", then 0x%06" PRIx32, st->impdef,
                                 impdef);
        st->have_impdef = true;
        st->impdef = impdef;
        return 0;
}

static int parse_token(ParseState *st, TextSlice token, serror_diag *diag) {
        TextSlice key = token, value;
        size_t i;

        for (i = 0; i < token.length; i++)
                if (token.start[i] == '=')
                        break;

        if (i < token.length) {
                key = slice_trim((TextSlice) { token.start, i });
                value = slice_trim((TextSlice) { token.start + i + 1, token.length - i - 1 });

                if (slice_is(key, "iesb") || slice_is(key, "ea"))
                        return diag_fail(diag, -EINVAL, "%s takes no value ('%.*s'); write '%s' alone",
                                         slice_is(key, "iesb") ? "IESB" : "EA", slice_quote_length(token, QUOTE_MAX), token.start,
                                         slice_is(key, "iesb") ? "iesb" : "ea");
                if (!slice_is(key, "aet") && !slice_is(key, "dfsc") && !slice_is(key, "iss") &&
                    !slice_is(key, "impdef"))
                        return diag_fail(diag, -EINVAL, "unknown syndrome field '%.*s' in '%.*s' "
                                         "(known: aet=, dfsc=, iss=, impdef=)",
                                         slice_quote_length(key, QUOTE_MAX), key.start, slice_quote_length(token, QUOTE_MAX), token.start);
                if (value.length == 0)
                        return diag_fail(diag, -EINVAL, "syndrome field '%.*s=' has no value", slice_quote_length(key, QUOTE_MAX),
                                         key.start);

                if (slice_is(key, "aet"))
                        return parse_aet_value(st, value, diag);
                if (slice_is(key, "dfsc"))
                        return parse_dfsc_value(st, value, diag);
                if (slice_is(key, "iss"))
                        return parse_iss_value(st, value, diag);
                return parse_impdef_value(st, value, diag);
        }

        if (ascii_isdigit(token.start[0]))
                return parse_iss_value(st, token, diag);

        if (slice_is(token, "iesb")) {
                if (st->have_iesb)
                        return diag_fail(diag, -EINVAL, "IESB given twice");
                st->have_iesb = true;
                return 0;
        }
        if (slice_is(token, "ea")) {
                if (st->have_ea)
                        return diag_fail(diag, -EINVAL, "EA given twice");
                st->have_ea = true;
                return 0;
        }
        for (i = 0; i <= AET_CODE_MAX; i++)
                if (aet_table[i].token && slice_is(token, aet_table[i].token))
                        return parse_set_aet(st, (serror_aet) i, diag);

        return diag_fail(diag, -EINVAL, "unknown syndrome field '%.*s' (known: uc, ueu, ueo, uer, ce, aet=, iesb, ea, dfsc=, "
                         "iss=, impdef=, or a number for the whole ISS)",
                         slice_quote_length(token, QUOTE_MAX), token.start);
}

/* Turns what the fields said into one syndrome. */
static int parse_finish(const ParseState *st, serror_syndrome *ret, serror_diag *diag) {
        serror_syndrome s = {};
        int r;

        if (st->have_iss) {
                if (st->n_fields > 1)
                        return diag_fail(diag, -EINVAL, "ISS 0x%" PRIx32 " gives the whole syndrome and cannot be combined "
                                         "with other fields", st->iss);
                return serror_syndrome_from_iss(st->iss, st->flags, ret, diag);
        }

        if (st->have_impdef) {
                if (st->n_fields > 1)
                        return diag_fail(diag, -EINVAL, "IDS impdef=0x%06" PRIx32 " cannot be combined with other fields: "
                                         "with IDS=1 all of ISS[23:0] is IMPLEMENTATION DEFINED", st->impdef);
                s.ids = true;
                s.impdef = st->impdef;
        } else {
                if (!st->have_aet && !st->have_dfsc)
                        return diag_fail(diag, -EINVAL, "DFSC not given: %s alone needs an AET name (uc, ueu, ueo, uer, ce) "
                                         "or dfsc=", st->have_iesb ? "IESB" : "EA");

                s.dfsc = st->have_dfsc ? st->dfsc : SERROR_DFSC_ASYNC;
                if (s.dfsc == SERROR_DFSC_UNCATEGORIZED && st->have_aet)
                        return diag_fail(diag, -EINVAL, "AET %s is valid only with DFSC 0b010001 (async), "
                                         "not with DFSC 0b000000 (uncategorized)", aet_table[st->aet].name);
                if (s.dfsc == SERROR_DFSC_UNCATEGORIZED && st->have_iesb)
                        return diag_fail(diag, -EINVAL, "IESB is valid only with DFSC 0b010001 (async), "
                                         "not with DFSC 0b000000 (uncategorized)");

                s.aet = st->have_aet ? st->aet : SERROR_AET_UC;
                s.iesb = st->have_iesb;
                s.ea = st->have_ea;
        }

        r = serror_syndrome_validate(&s, st->flags, diag);
        if (r < 0)
                return r;

        *ret = s;
        return 0;
}

int serror_syndrome_parse(const char *text, unsigned flags, serror_syndrome *ret, serror_diag *diag) {
        ParseState st = { .flags = flags };
        const char *p;
        int r;

        r = check_flags(flags, diag);
        if (r < 0)
                return r;
        if (!ret)
                return diag_fail(diag, -EINVAL, "no place to store the parsed syndrome");
        if (!text || slice_trim((TextSlice) { text, strlen(text) }).length == 0)
                return diag_fail(diag, -EINVAL, "syndrome text is empty (expected e.g. 'uer', 'ce,iesb' or 'iss=0xc11')");

        for (p = text;;) {
                const char *comma = strchr(p, ',');
                TextSlice token = { p, comma ? (size_t) (comma - p) : strlen(p) };

                token = slice_trim(token);
                st.n_fields++;
                if (token.length == 0)
                        return diag_fail(diag, -EINVAL, "syndrome field %u is empty (a stray or doubled comma)", st.n_fields);

                r = parse_token(&st, token, diag);
                if (r < 0)
                        return r;

                if (!comma)
                        break;
                p = comma + 1;
        }

        return parse_finish(&st, ret, diag);
}

/* The canonical form: "impdef=0xNNNNNN" for IDS=1; "dfsc=uncategorized" plus
 * ",ea"; otherwise the lower-case AET name, then ",iesb", then ",ea". The bare
 * name is the form people type, so that is the form we print back. */
int serror_syndrome_format(const serror_syndrome *s, char *buf, size_t size) {
        int n;

        if (serror_syndrome_validate(s, SERROR_ALLOW_IDS, NULL) < 0)
                return -EINVAL;
        if (!buf && size > 0)
                return -EINVAL;

        if (s->ids)
                n = snprintf(buf, size, "impdef=0x%06" PRIx32, s->impdef);
        else if (s->dfsc == SERROR_DFSC_UNCATEGORIZED)
                n = snprintf(buf, size, "dfsc=uncategorized%s", s->ea ? ",ea" : "");
        else
                n = snprintf(buf, size, "%s%s%s", aet_table[s->aet].token, s->iesb ? ",iesb" : "",
                             s->ea ? ",ea" : "");

        return n < 0 ? -EINVAL : n;
}

const char *serror_aet_to_string(serror_aet aet) {
        return (unsigned) aet <= AET_CODE_MAX ? aet_table[aet].name : NULL;
}

int serror_aet_from_string(const char *s, serror_aet *ret) {
        unsigned code;

        if (!s || !ret)
                return -EINVAL;
        for (code = 0; code <= AET_CODE_MAX; code++)
                if (aet_table[code].name && ascii_caseeq(s, aet_table[code].name)) {
                        *ret = (serror_aet) code;
                        return 0;
                }
        return -EINVAL;
}

const char *serror_aet_describe(serror_aet aet) {
        return (unsigned) aet <= AET_CODE_MAX ? aet_table[aet].description : NULL;
}

const char *serror_dfsc_to_string(serror_dfsc dfsc) {
        switch (dfsc) {
        case SERROR_DFSC_UNCATEGORIZED:
                return "uncategorized";
        case SERROR_DFSC_ASYNC:
                return "async";
        }
        return NULL;
}

const char *serror_dfsc_describe(serror_dfsc dfsc) {
        switch (dfsc) {
        case SERROR_DFSC_UNCATEGORIZED:
                return "uncategorized";
        case SERROR_DFSC_ASYNC:
                return "asynchronous SError interrupt";
        }
        return NULL;
}

const char *serror_mode_to_string(serror_mode m) {
        return (unsigned) m < _SERROR_MODE_MAX ? mode_table[m] : NULL;
}

int serror_mode_from_string(const char *s, serror_mode *ret) {
        unsigned i;

        if (!s || !ret)
                return -EINVAL;
        for (i = 0; i < _SERROR_MODE_MAX; i++)
                if (ascii_caseeq(s, mode_table[i])) {
                        *ret = (serror_mode) i;
                        return 0;
                }
        return -EINVAL;
}

const char *serror_outcome_to_string(serror_outcome o) {
        return (unsigned) o < _SERROR_OUTCOME_MAX ? outcome_table[o] : NULL;
}

int serror_outcome_from_string(const char *s, serror_outcome *ret) {
        unsigned i;

        if (!s || !ret)
                return -EINVAL;
        for (i = 0; i < _SERROR_OUTCOME_MAX; i++)
                if (ascii_caseeq(s, outcome_table[i])) {
                        *ret = (serror_outcome) i;
                        return 0;
                }
        return -EINVAL;
}

bool serror_outcome_landed(serror_outcome o) {
        switch (o) {
        case SERROR_OUTCOME_INJECTED:
        case SERROR_OUTCOME_MERGED:
        case SERROR_OUTCOME_COALESCED:
        case SERROR_OUTCOME_DEFERRED:
                return true;
        default:
                return false;
        }
}

/* -EINVAL for a syndrome that does not validate (IDS=1 allowed). */
int serror_syndrome_severity(const serror_syndrome *s) {
        if (serror_syndrome_validate(s, SERROR_ALLOW_IDS, NULL) < 0)
                return -EINVAL;

        /* A Linux guest panics on IDS=1 and on non-RAS (uncategorized)
         * SErrors just as on UC, so merging must never let them be replaced. */
        if (s->ids || s->dfsc == SERROR_DFSC_UNCATEGORIZED)
                return SERROR_SEVERITY_UC;

        switch (s->aet) {
        case SERROR_AET_CE:
                return SERROR_SEVERITY_CE;
        case SERROR_AET_UEO:
                return SERROR_SEVERITY_UEO;
        case SERROR_AET_UER:
                return SERROR_SEVERITY_UER;
        case SERROR_AET_UEU:
                return SERROR_SEVERITY_UEU;
        case SERROR_AET_UC:
                return SERROR_SEVERITY_UC;
        }
        return -EINVAL;
}

int serror_decide(serror_pending_kind kind, const serror_syndrome *pending, const serror_syndrome *incoming,
                  serror_mode mode, serror_decision *ret) {
        serror_decision d = {};
        int incoming_rank, pending_rank;

        if (!ret || (unsigned) mode >= _SERROR_MODE_MAX)
                return -EINVAL;

        incoming_rank = serror_syndrome_severity(incoming);
        if (incoming_rank < 0)
                return incoming_rank;

        switch (kind) {
        case SERROR_PENDING_NONE:
                d.action = SERROR_ACTION_WRITE;
                d.outcome = SERROR_OUTCOME_INJECTED;
                d.write = *incoming;
                *ret = d;
                return 0;
        case SERROR_PENDING_KNOWN:
                pending_rank = serror_syndrome_severity(pending);
                if (pending_rank < 0)
                        return pending_rank;
                break;
        case SERROR_PENDING_UNKNOWN:
                /* KVM chose that ESR itself: an IMPLEMENTATION DEFINED
                 * syndrome, which ranks with IDS=1. */
                pending_rank = SERROR_SEVERITY_UC;
                break;
        default:
                return -EINVAL;
        }

        switch (mode) {
        case SERROR_MODE_MERGE:
                /* RAS spec 2.5.3: one exception reporting the combined
                 * effect, i.e. the more severe of the two syndromes. */
                if (incoming_rank > pending_rank) {
                        d.action = SERROR_ACTION_WRITE;
                        d.outcome = SERROR_OUTCOME_MERGED;
                        d.write = *incoming;
                } else {
                        d.action = SERROR_ACTION_NONE;
                        d.outcome = SERROR_OUTCOME_COALESCED;
                }
                break;
        case SERROR_MODE_DEFER:
                d.action = SERROR_ACTION_WAIT;
                d.outcome = SERROR_OUTCOME_DEFERRED;
                break;
        case SERROR_MODE_SKIP:
                d.action = SERROR_ACTION_NONE;
                d.outcome = SERROR_OUTCOME_SKIPPED;
                break;
        default:
                return -EINVAL;
        }

        *ret = d;
        return 0;
}
