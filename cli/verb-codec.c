/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* serrorctl decode and encode: offline syndrome arithmetic, no daemon needed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <strings.h>

#include "cli.h"
#include "parse-util.h"
#include "serror/mce.h"
#include "serror/syndrome.h"

/* arm64 Linux's do_serror(): only CE and UEO (restartable) are survivable;
 * IDS = 1 and non-RAS DFSC are fatal (DOMAIN.md section 2). */
static const char *linux_guest_reaction(const serror_syndrome *s) {
        if (s->ids || s->dfsc != SERROR_DFSC_ASYNC)
                return "panic";
        return s->aet == SERROR_AET_CE || s->aet == SERROR_AET_UEO ? "continue" : "panic";
}

static const char *severity_name(const serror_syndrome *s) {
        if (s->ids)
                return "IMPLEMENTATION DEFINED (ranked as UC)";
        if (s->dfsc != SERROR_DFSC_ASYNC)
                return "uncategorized (ranked as UC)";
        return serror_aet_to_string(s->aet);
}

static struct json_object *syndrome_to_json(const serror_syndrome *s) {
        struct json_object *o = json_object_new_object();
        uint32_t iss = serror_syndrome_iss(s), esr = serror_syndrome_esr(s);
        char text[128], hex[16];

        if (!o)
                return NULL;
        serror_syndrome_format(s, text, sizeof(text));
        json_object_object_add(o, "syndrome", json_object_new_string(text));
        snprintf(hex, sizeof(hex), "0x%08" PRIx32, esr);
        json_object_object_add(o, "esr", json_object_new_int64(esr));
        json_object_object_add(o, "esr_hex", json_object_new_string(hex));
        snprintf(hex, sizeof(hex), "0x%06" PRIx32, iss);
        json_object_object_add(o, "iss", json_object_new_int64(iss));
        json_object_object_add(o, "iss_hex", json_object_new_string(hex));
        json_object_object_add(o, "ec", json_object_new_int(SERROR_ESR_EC_SERROR));
        json_object_object_add(o, "ec_name", json_object_new_string("SError"));
        json_object_object_add(o, "il", json_object_new_int(1));
        json_object_object_add(o, "ids", json_object_new_boolean(s->ids));
        if (s->ids) {
                json_object_object_add(o, "impdef", json_object_new_int64(s->impdef));
        } else {
                json_object_object_add(o, "iesb", json_object_new_boolean(s->iesb));
                json_object_object_add(o, "ea", json_object_new_boolean(s->ea));
                json_object_object_add(o, "dfsc", json_object_new_int(s->dfsc));
                json_object_object_add(o, "dfsc_name", json_object_new_string(serror_dfsc_to_string(s->dfsc)));
                if (s->dfsc == SERROR_DFSC_ASYNC) {
                        json_object_object_add(o, "aet", json_object_new_int(s->aet));
                        json_object_object_add(o, "aet_name", json_object_new_string(serror_aet_to_string(s->aet)));
                } else
                        json_object_object_add(o, "aet", NULL);
        }
        json_object_object_add(o, "severity", json_object_new_int(serror_syndrome_severity(s)));
        json_object_object_add(o, "linux_guest", json_object_new_string(linux_guest_reaction(s)));
        return o;
}

static void syndrome_print(const serror_syndrome *s) {
        uint32_t iss = serror_syndrome_iss(s);
        char text[128];

        serror_syndrome_format(s, text, sizeof(text));
        printf("     Syndrome: %s\n", text);
        printf("          ESR: 0x%08" PRIx32 "\n", serror_syndrome_esr(s));
        printf("           EC: 0x%02x (SError interrupt)\n", SERROR_ESR_EC_SERROR);
        printf("           IL: 1\n");
        printf("          ISS: 0x%06" PRIx32 "\n", iss);
        if (s->ids) {
                printf("          IDS: 1 (IMPLEMENTATION DEFINED syndrome)\n");
                printf("       ImpDef: 0x%06" PRIx32 "\n", s->impdef);
        } else {
                printf("          IDS: 0 (architected syndrome)\n");
                if (s->dfsc == SERROR_DFSC_ASYNC) {
                        printf("         IESB: %d%s\n", s->iesb, s->iesb ? " (synchronized by an implicit error synchronization barrier)" : "");
                        printf("          AET: 0b%d%d%d %s (%s)\n", (s->aet >> 2) & 1, (s->aet >> 1) & 1, s->aet & 1,
                               serror_aet_to_string(s->aet), serror_aet_describe(s->aet));
                }
                printf("           EA: %d\n", s->ea);
                printf("         DFSC: 0x%02x (%s)\n", s->dfsc, serror_dfsc_describe(s->dfsc));
        }
        printf("     Severity: %s\n", severity_name(s));
        printf("  Linux guest: %s\n", streq(linux_guest_reaction(s), "panic") ? "panics (fatal SError)" : "logs it and continues");
}

static int show(const serror_syndrome *s) {
        if (arg_json != JSON_OFF) {
                _cleanup_json_ struct json_object *o = syndrome_to_json(s);
                if (!o)
                        return log_error_errno(-ENOMEM, "out of memory");
                json_print(o);
        } else
                syndrome_print(s);
        return 0;
}

/* ------------------------------------------------------------------ x86 machine checks */

/* The flags named in value, in the order the SDM lists them: MCi_STATUS
 * from VAL (bit 63) down, MCG_STATUS from RIPV (bit 0) up. Bits without a
 * name are in the hex value. */
static size_t named_bits(uint64_t value, bool mcg, const char *ret[static 64]) {
        size_t n = 0;

        for (unsigned i = 0; i < 64; i++) {
                unsigned bit = mcg ? i : 63 - i;
                const char *name = mcg ? serror_mce_mcg_bit_name(bit) : serror_mce_status_bit_name(bit);

                if ((value & (UINT64_C(1) << bit)) && name)
                        ret[n++] = name;
        }
        return n;
}

static struct json_object *bits_to_json(uint64_t value, bool mcg) {
        struct json_object *a = json_object_new_array();
        const char *names[64];
        size_t n = named_bits(value, mcg, names);

        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_string(names[i]));
        return a;
}

static void print_bits(uint64_t value, bool mcg) {
        const char *names[64];
        size_t n = named_bits(value, mcg, names);

        for (size_t i = 0; i < n; i++)
                printf(" %s", names[i]);
}

/* MCi_STATUS in all 16 digits, as the guest logs it; the others short. */
static void json_add_hex(struct json_object *o, const char *key, uint64_t value, bool all_digits) {
        char hex[32];

        if (all_digits)
                (void) snprintf(hex, sizeof(hex), "0x%016" PRIx64, value);
        else
                (void) snprintf(hex, sizeof(hex), "0x%" PRIx64, value);
        json_object_object_add(o, key, json_object_new_string(hex));
}

static int show_mce(const serror_mce *m) {
        serror_mce_class c = serror_mce_classify(m);
        serror_mce_status_fields f;
        char text[160], code[160];

        (void) serror_mce_format(m, text, sizeof(text));
        (void) serror_mce_status_decode(m->status, &f);
        (void) serror_mce_code_describe(f.mca_code, code, sizeof(code));
        if (arg_json != JSON_OFF) {
                _cleanup_json_ struct json_object *o = json_object_new_object();

                if (!o)
                        return log_error_errno(-ENOMEM, "out of memory");
                json_object_object_add(o, "machine_check", json_object_new_string(text));
                json_object_object_add(o, "bank", json_object_new_int64(m->bank));
                json_add_hex(o, "status", m->status, true);
                json_object_object_add(o, "status_bits", bits_to_json(m->status, false));
                json_object_object_add(o, "code", json_object_new_int64(f.mca_code));
                json_object_object_add(o, "code_description", json_object_new_string(code));
                json_object_object_add(o, "model_code", json_object_new_int64(f.model_code));
                json_object_object_add(o, "other_info", json_object_new_int64(f.other_info));
                json_object_object_add(o, "corrected_count", json_object_new_int64(f.corrected_count));
                json_object_object_add(o, "threshold", json_object_new_int64(f.threshold));
                json_add_hex(o, "addr", m->addr, false);
                json_add_hex(o, "misc", m->misc, false);
                json_add_hex(o, "mcg_status", m->mcg_status, false);
                json_object_object_add(o, "mcg_status_bits", bits_to_json(m->mcg_status, true));
                json_object_object_add(o, "class", json_object_new_string(serror_mce_class_to_string(c)));
                json_object_object_add(o, "raises_mc", json_object_new_boolean(serror_mce_raises_mc(m)));
                json_print(o);
                return 0;
        }
        printf("Machine check: %s\n", text);
        printf("         Bank: %" PRIu32 "\n", m->bank);
        printf("   MCi_STATUS: 0x%016" PRIx64 "\n", m->status);
        printf("              ");
        print_bits(m->status, false);
        printf("\n");
        printf("     MCA code: 0x%04" PRIx16 " (%s)\n", f.mca_code, code);
        printf("   Model code: 0x%04" PRIx16 "\n", f.model_code);
        /* Bits 52:32 are model-specific unless MCG_CAP says otherwise: shown
         * only when something is there. */
        if (f.corrected_count || f.other_info)
                printf("   Bits 52:32: corrected count %" PRIu16 " (with MCG_CMCI_P), other 0x%02" PRIx8 "\n",
                       f.corrected_count, f.other_info);
        if (f.threshold && !f.uc)
                printf("    Threshold: %s (with MCG_TES_P)\n",
                       f.threshold == 1 ? "green" : f.threshold == 2 ? "yellow" : "reserved");
        printf("     MCi_ADDR: 0x%" PRIx64 "%s\n", m->addr, f.addrv ? "" : " (not valid)");
        printf("     MCi_MISC: 0x%" PRIx64 "%s\n", m->misc, f.miscv ? "" : " (not valid)");
        printf("   MCG_STATUS: 0x%" PRIx64, m->mcg_status);
        print_bits(m->mcg_status, true);
        printf("\n");
        printf("        Class: %s (%s)\n", serror_mce_class_to_string(c), serror_mce_class_describe(c));
        return 0;
}

int verb_decode(int argc, char *argv[]) {
        serror_syndrome s;
        serror_diag diag = {};
        uint64_t value;
        int r;

        /* mce:STATUS[,ITEM...]: an MCi_STATUS as a bank holds it, with the
         * rest of the text form (mcg=, bank=, ...) when known. */
        if (strncasecmp(argv[1], "mce:", 4) == 0) {
                _cleanup_free_ char *text = NULL;
                serror_mce m;

                if (asprintf(&text, "mce:status=%s", argv[1] + 4) < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
                r = serror_mce_parse(text, &m, &diag);
                if (r < 0)
                        return usage_error("cannot decode '%s': %s", argv[1], diag.message);
                return show_mce(&m);
        }

        r = parse_u64(argv[1], &value);
        if (r < 0)
                return usage_error("cannot decode '%s': expected a number such as 0xbe000c11 (an ESR) or 0xc11 (an ISS)",
                                   argv[1]);
        /* Decoding reads what a guest saw, so IDS = 1 is always accepted here. */
        if (value > SERROR_ISS_MASK)
                r = serror_syndrome_from_esr(value, SERROR_ALLOW_IDS, &s, &diag);
        else
                r = serror_syndrome_from_iss((uint32_t) value, SERROR_ALLOW_IDS, &s, &diag);
        if (r < 0) {
                /* No ESR has bit 63 set; an MCi_STATUS with VAL does. */
                if (value & SERROR_MCI_VAL)
                        return usage_error("cannot decode '%s': %s (an x86 MCi_STATUS? write mce:%s)", argv[1],
                                           diag.message, argv[1]);
                return usage_error("cannot decode '%s': %s", argv[1], diag.message);
        }
        return show(&s);
}

int verb_encode(int argc, char *argv[]) {
        serror_syndrome s;
        serror_diag diag = {};
        int r;

        if (serror_mce_text_is_mce(argv[1])) {
                serror_mce m;

                r = serror_mce_parse(argv[1], &m, &diag);
                if (r < 0)
                        return usage_error("invalid machine check '%s': %s", argv[1], diag.message);
                return show_mce(&m);
        }
        r = serror_syndrome_parse(argv[1], arg_allow_ids ? SERROR_ALLOW_IDS : 0, &s, &diag);
        if (r < 0)
                return usage_error("invalid syndrome '%s': %s", argv[1], diag.message);
        return show(&s);
}
