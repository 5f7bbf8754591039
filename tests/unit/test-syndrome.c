/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the SError syndrome model: text form, ISS/ESR encoding, validation and name tables. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "serror/syndrome.h"
#include "tap.h"

/* Written out from the Arm ARM ISS layout rather than taken from the header,
 * so a wrong constant there cannot hide itself. */
#define BIT_IDS 0x1000000u
#define BIT_IESB 0x2000u
#define BIT_EA 0x200u
#define AET_SHIFT 10
#define ESR_SERROR 0xbe000000u

static const serror_aet all_aets[] = {
        SERROR_AET_UC, SERROR_AET_UEU, SERROR_AET_UEO, SERROR_AET_UER, SERROR_AET_CE,
};

static const uint32_t impdef_samples[] = {
        0x000000, 0x000001, 0x000011, 0x000c11, 0x123456, 0x800000, 0xabcdef, 0xffffff,
};

/* Every valid syndrome with IDS=0, and a sample of IDS=1 ones. */
static serror_syndrome valid_space[5 * 2 * 2 + 2 + ELEMENTSOF(impdef_samples)];
static size_t n_valid_space;

static void build_valid_space(void) {
        size_t i;
        int iesb, ea;

        for (i = 0; i < ELEMENTSOF(all_aets); i++)
                for (iesb = 0; iesb < 2; iesb++)
                        for (ea = 0; ea < 2; ea++)
                                valid_space[n_valid_space++] = (serror_syndrome) {
                                        .aet = all_aets[i], .iesb = iesb, .ea = ea, .dfsc = SERROR_DFSC_ASYNC,
                                };
        for (ea = 0; ea < 2; ea++)
                valid_space[n_valid_space++] = (serror_syndrome) { .ea = ea, .dfsc = SERROR_DFSC_UNCATEGORIZED };
        for (i = 0; i < ELEMENTSOF(impdef_samples); i++)
                valid_space[n_valid_space++] = (serror_syndrome) { .ids = true, .impdef = impdef_samples[i] };
}

static bool syndrome_eq(const serror_syndrome *a, const serror_syndrome *b) {
        return a->ids == b->ids && a->impdef == b->impdef && a->iesb == b->iesb && a->aet == b->aet &&
               a->ea == b->ea && a->dfsc == b->dfsc;
}

/* Field by field, so a diagnostic stays readable even for a syndrome format() refuses. */
static const char *syndrome_dump(const serror_syndrome *s, char *buf, size_t size) {
        snprintf(buf, size, "{ids=%d impdef=0x%06" PRIx32 " iesb=%d aet=%u ea=%d dfsc=0x%02x}", s->ids, s->impdef,
                 s->iesb, (unsigned) s->aet, s->ea, (unsigned) s->dfsc);
        return buf;
}

static uint32_t expected_iss(const serror_syndrome *s) {
        if (s->ids)
                return BIT_IDS | s->impdef;
        return (s->iesb ? BIT_IESB : 0) | ((uint32_t) s->aet << AET_SHIFT) | (s->ea ? BIT_EA : 0) | (uint32_t) s->dfsc;
}

static void upcase(char *s) {
        for (; *s; s++)
                if (*s >= 'a' && *s <= 'z')
                        *s = (char) (*s - 'a' + 'A');
}

/* The same IDS=0 syndrome spelt the other way: fields in reverse order,
 * upper case, spaces around commas and '=', and aet=/dfsc= written out. */
static void other_spelling(const serror_syndrome *s, char *buf, size_t size) {
        const char *aet = serror_aet_to_string(s->aet);

        if (s->dfsc == SERROR_DFSC_UNCATEGORIZED)
                snprintf(buf, size, " %s DFSC = 0 ", s->ea ? "ea ," : "");
        else
                snprintf(buf, size, "\t%s%s dfsc=0x11 , aet = %s\n", s->ea ? "ea, " : "", s->iesb ? "iesb, " : "",
                         aet);
        upcase(buf);
}

static void test_round_trips(void) {
        size_t i;

        for (i = 0; i < n_valid_space; i++) {
                const serror_syndrome *s = &valid_space[i];
                serror_syndrome got;
                serror_diag diag = {};
                char text[64], again[64], alt[96], dump[128];
                uint32_t iss = expected_iss(s);
                int r, n;

                syndrome_dump(s, dump, sizeof(dump));

                r = serror_syndrome_validate(s, SERROR_ALLOW_IDS, &diag);
                if (!tap_ok(r == 0, "validate %s with SERROR_ALLOW_IDS", dump))
                        tap_diag("r=%d: %s", r, diag.message);

                diag.message[0] = '\0';
                r = serror_syndrome_validate(s, 0, &diag);
                if (s->ids)
                        tap_ok(r == -EINVAL && strstr(diag.message, "IDS") && strstr(diag.message, "opt-in"),
                               "validate %s without the opt-in is refused, naming IDS: %s", dump, diag.message);
                else
                        tap_ok(r == 0, "validate %s without the opt-in", dump);

                tap_ok(serror_syndrome_iss(s) == iss && serror_syndrome_esr(s) == (ESR_SERROR | iss),
                       "%s encodes as ISS 0x%07" PRIx32 " (got 0x%07" PRIx32 "), ESR 0x%08" PRIx32, dump, iss,
                       serror_syndrome_iss(s), serror_syndrome_esr(s));

                n = serror_syndrome_format(s, text, sizeof(text));
                r = serror_syndrome_parse(text, SERROR_ALLOW_IDS, &got, &diag);
                if (!tap_ok(n > 0 && (size_t) n == strlen(text) && r == 0 && syndrome_eq(s, &got),
                            "format %s as '%s' and parse it back", dump, text))
                        tap_diag("format=%d parse=%d %s", n, r, r < 0 ? diag.message : "");

                n = serror_syndrome_format(&got, again, sizeof(again));
                tap_ok(n > 0 && streq(text, again), "'%s' is canonical: formats again as '%s'", text, again);

                r = serror_syndrome_from_iss(iss, SERROR_ALLOW_IDS, &got, &diag);
                if (!tap_ok(r == 0 && syndrome_eq(s, &got), "decode ISS 0x%07" PRIx32 " back to %s", iss, dump))
                        tap_diag("r=%d %s", r, r < 0 ? diag.message : "");

                r = serror_syndrome_from_esr((uint64_t) (ESR_SERROR | iss), SERROR_ALLOW_IDS, &got, &diag);
                if (!tap_ok(r == 0 && syndrome_eq(s, &got), "decode ESR 0x%08" PRIx32 " back to %s",
                            ESR_SERROR | iss, dump))
                        tap_diag("r=%d %s", r, r < 0 ? diag.message : "");

                snprintf(alt, sizeof(alt), "iss=0x%" PRIx32, iss);
                r = serror_syndrome_parse(alt, SERROR_ALLOW_IDS, &got, &diag);
                tap_ok(r == 0 && syndrome_eq(s, &got), "parse '%s' gives %s", alt, dump);

                snprintf(alt, sizeof(alt), " %" PRIu32 " ", iss);
                r = serror_syndrome_parse(alt, SERROR_ALLOW_IDS, &got, &diag);
                tap_ok(r == 0 && syndrome_eq(s, &got), "parse bare decimal '%s' gives %s", alt, dump);

                if (s->ids) {
                        snprintf(alt, sizeof(alt), "IMPDEF=%" PRIu32, s->impdef);
                        r = serror_syndrome_parse(alt, SERROR_ALLOW_IDS, &got, &diag);
                        tap_ok(r == 0 && syndrome_eq(s, &got), "parse '%s' gives %s", alt, dump);
                } else {
                        other_spelling(s, alt, sizeof(alt));
                        r = serror_syndrome_parse(alt, 0, &got, &diag);
                        if (!tap_ok(r == 0 && syndrome_eq(s, &got), "parse other spelling of '%s' gives %s", text,
                                    dump))
                                tap_diag("text '%s': r=%d %s", alt, r, r < 0 ? diag.message : "");
                }
        }
}

static void test_known_vectors(void) {
        serror_syndrome s, t;
        serror_diag diag = {};
        char buf[64];
        int r;

        r = serror_syndrome_parse("uer", 0, &s, &diag);
        tap_ok(r == 0 && serror_syndrome_iss(&s) == 0xc11 && serror_syndrome_esr(&s) == 0xbe000c11,
               "'uer' is ISS 0xc11, ESR 0xbe000c11");

        r = serror_syndrome_from_esr(0xbe000c11, 0, &s, &diag);
        tap_ok(r == 0 && !s.ids && s.aet == SERROR_AET_UER && s.dfsc == SERROR_DFSC_ASYNC && !s.iesb && !s.ea,
               "ESR 0xbe000c11 decodes as SError, AET UER, DFSC async");

        r = serror_syndrome_parse("0xc11", 0, &t, &diag);
        tap_ok(r == 0 && syndrome_eq(&s, &t), "'0xc11' equals 'uer'");

        r = serror_syndrome_parse("impdef=0x000011", SERROR_ALLOW_IDS, &s, &diag);
        tap_ok(r == 0 && s.ids && s.impdef == 0x11 && serror_syndrome_esr(&s) == 0xbf000011,
               "'impdef=0x000011' with the opt-in is ESR 0xbf000011");

        r = serror_syndrome_parse("iss=0x1000011", SERROR_ALLOW_IDS, &t, &diag);
        tap_ok(r == 0 && syndrome_eq(&s, &t), "'iss=0x1000011' with the opt-in equals 'impdef=0x000011'");

        r = serror_syndrome_parse("ce", 0, &s, &diag);
        tap_ok(r == 0 && serror_syndrome_iss(&s) == 0x1811, "'ce' is ISS 0x1811");

        r = serror_syndrome_parse("dfsc=async", 0, &s, &diag);
        tap_ok(r == 0 && s.aet == SERROR_AET_UC && serror_syndrome_iss(&s) == 0x11,
               "'dfsc=async' alone is AET UC (0b000), ISS 0x11");

        r = serror_syndrome_parse("dfsc=uncategorized", 0, &s, &diag);
        tap_ok(r == 0 && serror_syndrome_esr(&s) == 0xbe000000, "'dfsc=uncategorized' is ESR 0xbe000000");

        r = serror_syndrome_parse("Aet=UEO,IESB,Ea", 0, &s, &diag);
        tap_ok(r == 0 && serror_syndrome_iss(&s) == 0x2a11, "'Aet=UEO,IESB,Ea' is ISS 0x2a11");

        r = serror_syndrome_parse("aet=3", 0, &s, &diag);
        tap_ok(r == 0 && s.aet == SERROR_AET_UER, "'aet=3' is UER");

        r = serror_syndrome_parse("0XC11", 0, &s, &diag);
        tap_ok(r == 0 && s.aet == SERROR_AET_UER, "'0XC11' is UER");

        r = serror_syndrome_parse("3089", 0, &s, &diag);
        tap_ok(r == 0 && s.aet == SERROR_AET_UER, "decimal '3089' is UER");

        r = serror_syndrome_parse("0x0000000000000c11", 0, &s, &diag);
        tap_ok(r == 0 && s.aet == SERROR_AET_UER, "leading zeros do not overflow");

        s = (serror_syndrome) { .aet = SERROR_AET_UER, .dfsc = SERROR_DFSC_ASYNC };
        serror_syndrome_format(&s, buf, sizeof(buf));
        tap_ok(streq(buf, "uer"), "plain UER formats as 'uer' (got '%s')", buf);

        s = (serror_syndrome) { .aet = SERROR_AET_UER, .iesb = true, .ea = true, .dfsc = SERROR_DFSC_ASYNC };
        serror_syndrome_format(&s, buf, sizeof(buf));
        tap_ok(streq(buf, "uer,iesb,ea"), "UER with IESB and EA formats as 'uer,iesb,ea' (got '%s')", buf);

        s = (serror_syndrome) { .ea = true, .dfsc = SERROR_DFSC_UNCATEGORIZED };
        serror_syndrome_format(&s, buf, sizeof(buf));
        tap_ok(streq(buf, "dfsc=uncategorized,ea"),
               "uncategorized with EA formats as 'dfsc=uncategorized,ea' (got '%s')", buf);

        s = (serror_syndrome) { .ids = true, .impdef = 0x123456 };
        serror_syndrome_format(&s, buf, sizeof(buf));
        tap_ok(streq(buf, "impdef=0x123456"), "IDS formats as 'impdef=0x123456' (got '%s')", buf);

        s = (serror_syndrome) { .ids = true, .impdef = 0x11 };
        serror_syndrome_format(&s, buf, sizeof(buf));
        tap_ok(streq(buf, "impdef=0x000011"), "IDS impdef is zero-padded to 24 bits (got '%s')", buf);
}

/* How many ISS values decode, over the whole 24-bit space: exactly the valid ones. */
static void test_iss_space(void) {
        serror_syndrome s;
        uint32_t iss, accepted = 0, mismatched = 0, ids_refused = 0;
        unsigned bit;
        bool high_bits_refused = true;

        for (iss = 0; iss <= 0xffffff; iss++)
                if (serror_syndrome_from_iss(iss, 0, &s, NULL) == 0) {
                        accepted++;
                        if (serror_syndrome_iss(&s) != iss)
                                mismatched++;
                }
        tap_ok(accepted == 22 && mismatched == 0,
               "of all 2^24 ISS values with IDS=0, exactly 22 decode (%" PRIu32 "), each back to itself (%" PRIu32
               " do not)", accepted, mismatched);

        accepted = mismatched = 0;
        for (iss = 0x1000000; iss <= 0x1ffffff; iss += 0x107) {
                if (serror_syndrome_from_iss(iss, 0, &s, NULL) == -EINVAL)
                        ids_refused++;
                if (serror_syndrome_from_iss(iss, SERROR_ALLOW_IDS, &s, NULL) == 0) {
                        accepted++;
                        if (serror_syndrome_iss(&s) != iss || !s.ids)
                                mismatched++;
                }
        }
        tap_ok(accepted == ids_refused && accepted == (0x1000000 + 0x106) / 0x107 && mismatched == 0,
               "every sampled ISS with IDS=1 decodes with the opt-in (%" PRIu32 ") and is refused without (%" PRIu32
               ")", accepted, ids_refused);

        for (bit = 25; bit < 32; bit++)
                if (serror_syndrome_from_iss((UINT32_C(1) << bit) | 0xc11, SERROR_ALLOW_IDS, &s, NULL) != -EINVAL)
                        high_bits_refused = false;
        tap_ok(high_bits_refused, "ISS bits 31:25 are refused even with the opt-in");
}

static void test_esr_space(void) {
        serror_syndrome s;
        serror_diag diag;
        unsigned ec, accepted = 0, unnamed = 0;
        char want[32];

        for (ec = 0; ec < 64; ec++) {
                uint32_t esr = (ec << 26) | (1u << 25) | 0xc11;

                diag.message[0] = '\0';
                if (serror_syndrome_from_esr(esr, SERROR_ALLOW_IDS, &s, &diag) == 0) {
                        accepted++;
                        continue;
                }
                snprintf(want, sizeof(want), "EC 0x%02x is not SError (0x2f)", ec);
                if (!strstr(diag.message, want)) {
                        unnamed++;
                        tap_diag("EC 0x%02x: '%s'", ec, diag.message);
                }
        }
        tap_ok(accepted == 1 && unnamed == 0, "of 64 EC values only 0x2f decodes; the others name their EC");
}

typedef struct rejection {
        const char *text;
        unsigned flags;
        const char *needle[4]; /* all must appear in the diag message */
} rejection;

static const rejection parse_rejections[] = {
        { "", 0, { "empty" } },
        { "   \t ", 0, { "empty" } },
        { NULL, 0, { "empty" } },
        { "uer,", 0, { "empty", "field 2" } },
        { ",uer", 0, { "empty", "field 1" } },
        { "uer,,iesb", 0, { "empty", "field 2" } },
        { "uer, ,iesb", 0, { "empty" } },
        { "bogus", 0, { "unknown", "'bogus'" } },
        { "uer,bogus", 0, { "unknown", "'bogus'" } },
        { "u er", 0, { "unknown", "'u er'" } },
        { "c11", 0, { "unknown", "'c11'" } },
        { "foo=1", 0, { "unknown", "'foo'" } },
        { "uerx", 0, { "unknown", "'uerx'" } },
        { "iesb=1,uer", 0, { "IESB", "no value" } },
        { "uer,ea=0", 0, { "EA", "no value" } },
        { "aet=", 0, { "aet=", "no value" } },
        { "iss=", 0, { "iss=", "no value" } },
        { "aet=uer,aet=ce", 0, { "AET", "twice", "CE" } },
        { "uer,ce", 0, { "AET", "twice", "UER" } },
        { "uer,aet=uer", 0, { "AET", "twice" } },
        { "iesb,iesb,uer", 0, { "IESB", "twice" } },
        { "ea,uer,ea", 0, { "EA", "twice" } },
        { "dfsc=async,dfsc=0x11,uer", 0, { "DFSC", "twice" } },
        { "iss=0xc11,iss=0xc11", 0, { "ISS", "twice", "0xc11" } },
        { "0xc11,uer", 0, { "ISS", "0xc11", "combined" } },
        { "iss=0xc11,iesb", 0, { "ISS", "combined" } },
        { "uer,iss=0xc11", 0, { "ISS", "combined" } },
        { "impdef=0x11,uer", SERROR_ALLOW_IDS, { "IDS", "0x000011", "combined" } },
        { "ea,impdef=0x11", SERROR_ALLOW_IDS, { "IDS", "combined" } },
        { "impdef=0x11,iss=0x1000011", SERROR_ALLOW_IDS, { "combined" } },
        { "impdef=1,impdef=2", SERROR_ALLOW_IDS, { "IDS", "twice" } },
        { "iss=0xzz", 0, { "ISS", "'0xzz'", "not a number" } },
        { "iss=-1", 0, { "ISS", "'-1'" } },
        { "iss=+3089", 0, { "ISS", "'+3089'" } },
        { "iss=0x100000000", 0, { "ISS", "0x100000000", "32 bits" } },
        { "99999999999", 0, { "ISS", "99999999999", "32 bits" } },
        { "0x", 0, { "ISS", "'0x'" } },
        { "1e3", 0, { "ISS", "'1e3'" } },
        { "0x c11", 0, { "ISS", "'0x c11'" } },
        { "impdef=0x1000000", SERROR_ALLOW_IDS, { "IDS", "0x1000000", "24 bits" } },
        { "impdef=0x1000000000", SERROR_ALLOW_IDS, { "IDS", "24 bits" } },
        { "impdef=zz", SERROR_ALLOW_IDS, { "IDS", "'zz'" } },
        { "impdef=0x11", 0, { "IDS=1", "0x000011", "opt-in" } },
        { "aet=4", 0, { "AET 0b100 is reserved", "UC, UEU, UEO, UER, CE" } },
        { "aet=5", 0, { "AET 0b101 is reserved (valid: UC, UEU, UEO, UER, CE)" } },
        { "aet=7", 0, { "AET 0b111 is reserved" } },
        { "aet=8", 0, { "AET", "8", "3 bits" } },
        { "aet=bogus", 0, { "AET", "'bogus'" } },
        { "iss=0x1011", 0, { "AET 0b100 is reserved" } },
        { "iss=0x1411", 0, { "AET 0b101 is reserved" } },
        { "iss=0x1c11", 0, { "AET 0b111 is reserved" } },
        { "dfsc=uncategorized,uer", 0, { "AET", "UER", "0b010001" } },
        { "uer,dfsc=0", 0, { "AET", "UER", "0b010001" } },
        { "dfsc=uncategorized,aet=ce", 0, { "AET", "CE", "0b010001" } },
        { "dfsc=uncategorized,iesb", 0, { "IESB", "0b010001" } },
        { "iss=0xc00", 0, { "AET", "0b011", "0b010001" } },
        { "iss=0x2000", 0, { "IESB", "0b010001" } },
        { "iss=0x1800", 0, { "AET", "CE", "0b010001" } },
        { "dfsc=0x12", 0, { "DFSC 0x12 is reserved" } },
        { "dfsc=0x40", 0, { "DFSC", "0x40", "6 bits" } },
        { "dfsc=1,uer", 0, { "DFSC 0x01 is reserved" } },
        { "dfsc=bogus", 0, { "DFSC", "'bogus'" } },
        { "iss=0x12", 0, { "DFSC 0x12 is reserved" } },
        { "iss=0x3f", 0, { "DFSC 0x3f is reserved" } },
        { "iss=0xc10", 0, { "DFSC 0x10 is reserved" } },
        { "iss=0x4011", 0, { "ISS", "RES0", "0x4000", "0xffc1c0" } },
        { "iss=0x51", 0, { "RES0 bits 0x40", "0xffc1c0" } },
        { "iss=0x800c11", 0, { "RES0 bits 0x800000" } },
        { "iss=0x1000011", 0, { "ISS", "IDS", "opt-in" } },
        { "0x1000c11", 0, { "IDS", "opt-in" } },
        { "iss=0x2000011", SERROR_ALLOW_IDS, { "ISS", "0x2000011", "above bit 24" } },
        { "iss=0x80000c11", SERROR_ALLOW_IDS, { "ISS", "above bit 24" } },
        { "iesb", 0, { "DFSC", "IESB" } },
        { "ea", 0, { "DFSC", "EA" } },
        { "uer", 0x2, { "flags", "0x2" } },
};

static void test_parse_rejections(void) {
        size_t i, j;

        for (i = 0; i < ELEMENTSOF(parse_rejections); i++) {
                const rejection *t = &parse_rejections[i];
                serror_syndrome sentinel, got;
                serror_diag diag = {};
                bool named = true;
                int r;

                memset(&sentinel, 0xa5, sizeof(sentinel));
                got = sentinel;
                r = serror_syndrome_parse(t->text, t->flags, &got, &diag);

                for (j = 0; j < ELEMENTSOF(t->needle) && t->needle[j]; j++)
                        if (!strstr(diag.message, t->needle[j]))
                                named = false;

                if (!tap_ok(r == -EINVAL && named && memcmp(&got, &sentinel, sizeof(got)) == 0,
                            "parse '%s' (flags 0x%x) is refused: %s", t->text ?: "(null)", t->flags, diag.message))
                        tap_diag("r=%d, wanted '%s' '%s' '%s' '%s'", r, t->needle[0], t->needle[1] ?: "",
                                 t->needle[2] ?: "", t->needle[3] ?: "");

                /* The same failure without anywhere to write the reason. */
                r = serror_syndrome_parse(t->text, t->flags, &got, NULL);
                if (r != -EINVAL)
                        tap_diag("parse '%s' with diag NULL returned %d", t->text ?: "(null)", r);
        }
}

typedef struct struct_rejection {
        const char *name;
        serror_syndrome s;
        unsigned flags;
        const char *needle[2];
} struct_rejection;

static const struct_rejection validate_rejections[] = {
        { "reserved AET 0b101", { .aet = (serror_aet) 5, .dfsc = SERROR_DFSC_ASYNC }, 0, { "AET 0b101 is reserved" } },
        { "reserved AET 0b100", { .aet = (serror_aet) 4, .dfsc = SERROR_DFSC_ASYNC }, 0, { "AET 0b100 is reserved" } },
        { "reserved AET 0b111", { .aet = (serror_aet) 7, .dfsc = SERROR_DFSC_ASYNC }, 0, { "AET 0b111 is reserved" } },
        { "AET beyond 3 bits", { .aet = (serror_aet) 9, .dfsc = SERROR_DFSC_ASYNC }, 0, { "AET 9", "3 bits" } },
        { "negative AET", { .aet = (serror_aet) -1, .dfsc = SERROR_DFSC_ASYNC }, 0, { "AET", "3 bits" } },
        { "reserved DFSC", { .dfsc = (serror_dfsc) 0x12 }, 0, { "DFSC 0x12 is reserved" } },
        { "DFSC beyond 6 bits", { .dfsc = (serror_dfsc) 0x51 }, 0, { "DFSC 0x51", "6 bits" } },
        { "AET with DFSC uncategorized", { .aet = SERROR_AET_UER, .dfsc = SERROR_DFSC_UNCATEGORIZED }, 0,
          { "AET UER", "0b010001" } },
        { "IESB with DFSC uncategorized", { .iesb = true, .dfsc = SERROR_DFSC_UNCATEGORIZED }, 0,
          { "IESB", "0b010001" } },
        { "IDS without the opt-in", { .ids = true, .impdef = 0x11 }, 0, { "IDS=1", "opt-in" } },
        { "IDS impdef beyond 24 bits", { .ids = true, .impdef = 0x1000000 }, SERROR_ALLOW_IDS,
          { "IDS", "24 bits" } },
        { "IDS with AET", { .ids = true, .aet = SERROR_AET_CE }, SERROR_ALLOW_IDS, { "AET", "IDS=1" } },
        { "IDS with IESB", { .ids = true, .iesb = true }, SERROR_ALLOW_IDS, { "IESB", "IDS=1" } },
        { "IDS with EA", { .ids = true, .ea = true }, SERROR_ALLOW_IDS, { "EA", "IDS=1" } },
        { "IDS with DFSC", { .ids = true, .dfsc = SERROR_DFSC_ASYNC }, SERROR_ALLOW_IDS, { "DFSC", "IDS=1" } },
        { "impdef without IDS", { .impdef = 5, .dfsc = SERROR_DFSC_ASYNC }, SERROR_ALLOW_IDS,
          { "impdef 0x5", "IDS=0" } },
        { "unknown flag", { .dfsc = SERROR_DFSC_ASYNC }, 0x80, { "flags", "0x80" } },
};

static void test_validate_rejections(void) {
        serror_diag diag;
        char buf[64];
        size_t i, j;

        for (i = 0; i < ELEMENTSOF(validate_rejections); i++) {
                const struct_rejection *t = &validate_rejections[i];
                bool named = true;
                int r;

                diag.message[0] = '\0';
                r = serror_syndrome_validate(&t->s, t->flags, &diag);
                for (j = 0; j < ELEMENTSOF(t->needle) && t->needle[j]; j++)
                        if (!strstr(diag.message, t->needle[j]))
                                named = false;
                tap_ok(r == -EINVAL && named, "validate refuses %s: %s", t->name, diag.message);

                /* Nothing that does not validate has a text form or a rank. */
                if (t->flags != 0x80 && !(t->s.ids && t->flags == 0))
                        tap_ok(serror_syndrome_format(&t->s, buf, sizeof(buf)) == -EINVAL &&
                                       serror_syndrome_severity(&t->s) == -EINVAL,
                               "format and severity refuse %s", t->name);
        }

        tap_ok(serror_syndrome_validate(NULL, 0, &diag) == -EINVAL, "validate refuses NULL");
}

typedef struct esr_rejection {
        uint64_t esr;
        unsigned flags;
        const char *needle[2];
} esr_rejection;

static const esr_rejection esr_rejections[] = {
        { 0x92000c11, 0, { "EC 0x24 is not SError (0x2f)" } },
        { 0x96000010, 0, { "EC 0x25 is not SError (0x2f)" } },
        { 0x00000000, 0, { "EC 0x00 is not SError (0x2f)" } },
        { 0xbc000c11, 0, { "IL is 0", "0xbc000c11" } },
        { UINT64_C(0x1be000c11), 0, { "ESR", "63:32" } },
        { UINT64_C(0x8000000000000000) | 0xbe000c11, 0, { "ESR", "63:32" } },
        { 0xbf000011, 0, { "IDS", "opt-in" } },
        { 0xbe004011, 0, { "RES0", "0x4000" } },
        { 0xbe001411, 0, { "AET 0b101 is reserved" } },
        { 0xbe000c12, 0, { "DFSC 0x12 is reserved" } },
        { 0xbe000c11, 0x4, { "flags" } },
};

static void test_esr_rejections(void) {
        size_t i, j;

        for (i = 0; i < ELEMENTSOF(esr_rejections); i++) {
                const esr_rejection *t = &esr_rejections[i];
                serror_syndrome sentinel, got;
                serror_diag diag = {};
                bool named = true;
                int r;

                memset(&sentinel, 0x5a, sizeof(sentinel));
                got = sentinel;
                r = serror_syndrome_from_esr(t->esr, t->flags, &got, &diag);
                for (j = 0; j < ELEMENTSOF(t->needle) && t->needle[j]; j++)
                        if (!strstr(diag.message, t->needle[j]))
                                named = false;
                tap_ok(r == -EINVAL && named && memcmp(&got, &sentinel, sizeof(got)) == 0,
                       "from_esr refuses 0x%" PRIx64 ": %s", t->esr, diag.message);
        }
}

static void test_format_buffer(void) {
        serror_syndrome s = { .aet = SERROR_AET_UER, .iesb = true, .ea = true, .dfsc = SERROR_DFSC_ASYNC };
        char small[4], big[32];
        int n;

        tap_ok(serror_syndrome_format(&s, NULL, 0) == 11, "format with no buffer returns the length needed");

        memset(small, 'x', sizeof(small));
        n = serror_syndrome_format(&s, small, sizeof(small));
        tap_ok(n == 11 && streq(small, "uer"), "format truncates like snprintf (got %d, '%s')", n, small);

        n = serror_syndrome_format(&s, big, 1);
        tap_ok(n == 11 && big[0] == '\0', "format into one byte writes only the terminator");

        tap_ok(serror_syndrome_format(&s, NULL, 8) == -EINVAL, "format refuses a NULL buffer with a size");
        tap_ok(serror_syndrome_format(NULL, big, sizeof(big)) == -EINVAL, "format refuses NULL");
}

static void test_names(void) {
        static const struct {
                serror_aet aet;
                const char *name;
                const char *description;
        } aets[] = {
                { SERROR_AET_UC, "UC", "uncontainable" },
                { SERROR_AET_UEU, "UEU", "unrecoverable state" },
                { SERROR_AET_UEO, "UEO", "restartable state" },
                { SERROR_AET_UER, "UER", "recoverable state" },
                { SERROR_AET_CE, "CE", "corrected" },
        };
        static const char *const modes[] = { "merge", "defer", "skip" };
        static const struct {
                const char *name;
                bool landed;
        } outcomes[] = {
                { "injected", true }, { "merged", true },  { "coalesced", true }, { "deferred", true },
                { "skipped", false }, { "expired", false }, { "failed", false },   { "dry-run", false },
        };
        serror_aet aet;
        serror_mode mode;
        serror_outcome outcome;
        char lower[8];
        size_t i, j;

        for (i = 0; i < ELEMENTSOF(aets); i++) {
                for (j = 0; aets[i].name[j]; j++)
                        lower[j] = (char) (aets[i].name[j] - 'A' + 'a');
                lower[j] = '\0';

                tap_ok(streq(serror_aet_to_string(aets[i].aet) ?: "", aets[i].name) &&
                               streq(serror_aet_describe(aets[i].aet) ?: "", aets[i].description) &&
                               serror_aet_from_string(lower, &aet) == 0 && aet == aets[i].aet &&
                               serror_aet_from_string(aets[i].name, &aet) == 0 && aet == aets[i].aet,
                       "AET %s: name, description, and back from '%s'", aets[i].name, lower);
        }
        tap_ok(!serror_aet_to_string((serror_aet) 4) && !serror_aet_to_string((serror_aet) 5) &&
                       !serror_aet_to_string((serror_aet) 7) && !serror_aet_to_string((serror_aet) 8) &&
                       !serror_aet_describe((serror_aet) 5),
               "reserved AET codes have no name");
        aet = SERROR_AET_CE;
        tap_ok(serror_aet_from_string("bogus", &aet) == -EINVAL && serror_aet_from_string("", &aet) == -EINVAL &&
                       serror_aet_from_string(NULL, &aet) == -EINVAL && aet == SERROR_AET_CE,
               "unknown AET names are refused and leave the output alone");

        tap_ok(streq(serror_dfsc_to_string(SERROR_DFSC_UNCATEGORIZED) ?: "", "uncategorized") &&
                       streq(serror_dfsc_to_string(SERROR_DFSC_ASYNC) ?: "", "async") &&
                       streq(serror_dfsc_describe(SERROR_DFSC_ASYNC) ?: "", "asynchronous SError interrupt") &&
                       !serror_dfsc_to_string((serror_dfsc) 0x12) && !serror_dfsc_describe((serror_dfsc) 0x12),
               "DFSC names and descriptions");

        for (i = 0; i < ELEMENTSOF(modes); i++)
                tap_ok(streq(serror_mode_to_string((serror_mode) i) ?: "", modes[i]) &&
                               serror_mode_from_string(modes[i], &mode) == 0 && mode == (serror_mode) i,
                       "mode %zu is '%s' and back", i, modes[i]);
        tap_ok(ELEMENTSOF(modes) == _SERROR_MODE_MAX && !serror_mode_to_string(_SERROR_MODE_MAX) &&
                       serror_mode_from_string("merged", &mode) == -EINVAL,
               "no mode beyond skip");

        for (i = 0; i < ELEMENTSOF(outcomes); i++)
                tap_ok(streq(serror_outcome_to_string((serror_outcome) i) ?: "", outcomes[i].name) &&
                               serror_outcome_from_string(outcomes[i].name, &outcome) == 0 &&
                               outcome == (serror_outcome) i &&
                               serror_outcome_landed((serror_outcome) i) == outcomes[i].landed,
                       "outcome %zu is '%s' and back, %s", i, outcomes[i].name,
                       outcomes[i].landed ? "landed" : "not landed");
        tap_ok(ELEMENTSOF(outcomes) == _SERROR_OUTCOME_MAX && !serror_outcome_to_string(_SERROR_OUTCOME_MAX) &&
                       !serror_outcome_landed(_SERROR_OUTCOME_MAX) &&
                       serror_outcome_from_string("dry_run", &outcome) == -EINVAL,
               "no outcome beyond dry-run");
}

int main(void) {
        build_valid_space();

        test_round_trips();
        test_known_vectors();
        test_iss_space();
        test_esr_space();
        test_parse_rejections();
        test_validate_rejections();
        test_esr_rejections();
        test_format_buffer();
        test_names();

        return tap_done();
}
