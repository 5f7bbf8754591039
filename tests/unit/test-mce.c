/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine-check model against the values measured in DOMAIN.md section 8, the SDM's layouts and literal decision rows. */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <string.h>

#include "macro.h"
#include "serror/mce.h"
#include "tap.h"

static bool mce_eq(const serror_mce *a, const serror_mce *b) {
        return a->bank == b->bank && a->status == b->status && a->addr == b->addr && a->misc == b->misc &&
               a->mcg_status == b->mcg_status;
}

/* text parses to exactly these values and this class, and its canonical
 * form reads back equal. */
static void check_parse(const char *text, uint32_t bank, uint64_t status, uint64_t addr, uint64_t misc, uint64_t mcg,
                        const char *class_name) {
        serror_mce want = { .bank = bank, .status = status, .addr = addr, .misc = misc, .mcg_status = mcg };
        serror_mce m = {}, back = {};
        serror_diag diag = {};
        char canon[160];
        const char *got_class;
        int r, n;

        r = serror_mce_parse(text, &m, &diag);
        got_class = r == 0 ? serror_mce_class_to_string(serror_mce_classify(&m)) : "-";
        tap_ok(r == 0 && mce_eq(&m, &want) && streq(got_class, class_name),
               "%s: bank %" PRIu32 ", status 0x%016" PRIx64 ", addr 0x%" PRIx64 ", misc 0x%" PRIx64 ", mcg 0x%" PRIx64
               ", class %s (%s)",
               text, m.bank, m.status, m.addr, m.misc, m.mcg_status, got_class, r < 0 ? diag.message : "ok");
        if (r < 0)
                return;
        n = serror_mce_format(&m, canon, sizeof(canon));
        r = serror_mce_parse(canon, &back, &diag);
        tap_ok(n > 0 && (size_t) n == strlen(canon) && r == 0 && mce_eq(&back, &m), "%s: canonical %s reads back equal",
               text, canon);
}

static void check_refused(const char *text, const char *want) {
        serror_mce m = { .bank = 77 };
        serror_diag diag = {};
        int r = serror_mce_parse(text, &m, &diag);

        tap_ok(r == -EINVAL && strstr(diag.message, want) && m.bank == 77, "'%s' refused naming the field: %s", text,
               diag.message);
}

static void test_presets(void) {
        /* DOMAIN.md section 8, literally. */
        check_parse("srao", 1, 0xbd000000000000c0, 0, 0, 0x5, "srao");
        check_parse("mce:srao", 1, 0xbd000000000000c0, 0, 0, 0x5, "srao");
        check_parse("srar", 1, 0xbd80000000000134, 0, 0, 0x7, "srar");
        check_parse("mce:srar", 1, 0xbd80000000000134, 0, 0, 0x7, "srar");
        check_parse("ucna", 1, 0xbc00000000000010, 0, 0, 0, "ucna");
        check_parse("mce:ucna", 1, 0xbc00000000000010, 0, 0, 0, "ucna");
        check_parse("mce:ce", 1, 0x9c00000000000001, 0, 0, 0, "ce");
        /* Ours: VAL|UC|EN|PCC with EIPV|MCIP. */
        check_parse("fatal", 1, 0xb200000000000000, 0, 0, 0x6, "fatal");
        check_parse("mce:fatal", 1, 0xb200000000000000, 0, 0, 0x6, "fatal");
        /* Case and blanks do not matter. */
        check_parse("SRAR", 1, 0xbd80000000000134, 0, 0, 0x7, "srar");
        check_parse("MCE: srao , bank=2 ", 2, 0xbd000000000000c0, 0, 0, 0x5, "srao");
}

static void test_items(void) {
        /* The example of the text form. */
        check_parse("mce:bank=1,uc,pcc,addr=0x1000,misc=0x86", 1, 0xb600000000000000 | SERROR_MCI_ADDRV | SERROR_MCI_MISCV,
                    0x1000, 0x86, 0, "fatal");
        check_parse("mce:srao,bank=3,addr=0x7fff000", 3, 0xbd000000000000c0, 0x7fff000, 0, 0x5, "srao");
        check_parse("srar,bank=0,lmce", 0, 0xbd80000000000134, 0, 0, 0xf, "srar");
        /* srar rebuilt from its parts. */
        check_parse("mce:uc,s,ar,code=0x134,addr=0,misc=0,ripv,eipv,mcip", 1, 0xbd80000000000134, 0, 0, 0x7, "srar");
        check_parse("mce:status=0x9c00000000000001,bank=0", 0, 0x9c00000000000001, 0, 0, 0, "ce");
        check_parse("mce:code=0x1", 1, 0x9000000000000001, 0, 0, 0, "ce");
        check_parse("mce:val,en", 1, 0x9000000000000000, 0, 0, 0, "ce");
        check_parse("mce:over,code=0x17a", 1, 0xd00000000000017a, 0, 0, 0, "ce");
        check_parse("mce:status=0x8000000000000000", 1, 0x8000000000000000, 0, 0, 0, "ce");
        check_parse("mce:bank=31,uc", 31, 0xb000000000000000, 0, 0, 0, "ucna");
        check_parse("mce:ucna,mcg=0x5", 1, 0xbc00000000000010, 0, 0, 0x5, "fatal");
        check_parse("mce:srao,mcg=0x4", 1, 0xbd000000000000c0, 0, 0, 0x4, "fatal");
        check_parse("mce:srao,mcg=0x1", 1, 0xbd000000000000c0, 0, 0, 0x1, "fatal");
        check_parse("mce:uc,s,mcip", 1, 0xb100000000000000, 0, 0, 0x4, "fatal");
        check_parse("mce:uc,ripv,mcip", 1, 0xb000000000000000, 0, 0, 0x5, "fatal");
        /* Later items change earlier ones. */
        check_parse("mce:code=0x10,code=0x134", 1, 0x9000000000000134, 0, 0, 0, "ce");
        check_parse("mce:srar,status=0xbd000000000000c0,mcg=0x5", 1, 0xbd000000000000c0, 0, 0, 0x5, "srao");
}

static void test_refusals(void) {
        check_refused("mce:srao,bank=40", "bank 40 is beyond the 32 banks KVM supports");
        check_refused("mce:bank=32", "bank 32 is beyond the 32 banks KVM supports");
        check_refused("mce:status=0x1c00000000000001", "without VAL (bit 63)");
        check_refused("mce:ar", "ar (action required) needs s and uc");
        check_refused("mce:uc,ar", "ar (action required) needs s and uc");
        check_refused("mce:s", "s (signalled) needs uc");
        check_refused("mce:pcc", "pcc (processor context corrupt) needs uc");
        check_refused("mce:foo", "unknown item 'foo'");
        check_refused("srao,foo=1", "unknown item 'foo='");
        check_refused("mce:uc,srao", "the preset 'srao' must come first");
        check_refused("mce:code=0x10000", "code 0x10000 is wider than the 16-bit MCA error code");
        check_refused("mce:addr=zz", "invalid addr='zz'");
        check_refused("mce:bank=", "invalid bank=''");
        check_refused("mce:misc=0x1ffffffffffffffff", "misc=0x1ffffffffffffffff does not fit in 64 bits");
        check_refused("mce:status=0x00000000000000000000000000000000000000001", "status= is too long");
        check_refused("mce:addr=0x1000,status=0xb000000000000000", "addr 0x1000 with a status whose ADDRV (bit 58) is clear");
        check_refused("mce:misc=0x86,status=0xb000000000000000", "misc 0x86 with a status whose MISCV (bit 59) is clear");
        check_refused("mce:srao,mcg=0x10", "mcg 0x10 has bits other than RIPV, EIPV, MCIP and LMCE_S");
        check_refused("mce:ce,ripv", "mcg 0x1 with a corrected error");
        check_refused("mce:", "nothing after mce:");
        check_refused("mce:  ", "nothing after mce:");
        check_refused("mce:srao,", "empty item");
        check_refused("mce:srao,,uc", "empty item");
        check_refused("", "empty machine check");
        check_refused("uer", "is not a machine check");
        check_refused("ce", "is not a machine check");
}

static void test_text_is_mce(void) {
        static const struct {
                const char *text;
                bool mce;
        } rows[] = {
                { "srao", true },      { "SRAR", true },          { "ucna", true },  { "fatal", true },
                { "srar,bank=3", true }, { " srao ,uc", true },   { "mce:ce", true }, { "MCE:anything", true },
                /* The SError forms stay SErrors. */
                { "ce", false },       { "ce,bank=1", false },    { "uer", false },  { "iss=0xc11", false },
                { "0xc11", false },    { "", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                tap_ok(serror_mce_text_is_mce(rows[i].text) == rows[i].mce, "'%s' is %s", rows[i].text,
                       rows[i].mce ? "a machine check" : "not a machine check");
        tap_ok(!serror_mce_text_is_mce(NULL), "NULL is not a machine check");
}

static void test_turkish_locale(void) {
        serror_mce m;
        serror_diag diag;

        /* Skips quietly where the locale is not installed: the folding is
         * ASCII either way. */
        (void) setlocale(LC_ALL, "tr_TR.UTF-8");
        tap_ok(serror_mce_parse("MCE:UC,S,AR,RIPV,EIPV,MCIP,MISC=0X1", &m, &diag) == 0 &&
                       m.mcg_status == 0x7 && m.misc == 1,
               "upper-case items with I parse in any locale");
        (void) setlocale(LC_ALL, "C");
}

static void check_decode(uint64_t status, const char *bits, uint16_t code, const char *code_text) {
        serror_mce_status_fields f;
        char names[128] = "", text[160];
        size_t used = 0;

        for (unsigned bit = 64; bit-- > 0;)
                if ((status & (UINT64_C(1) << bit)) && serror_mce_status_bit_name(bit))
                        used += (size_t) snprintf(names + used, sizeof(names) - used, "%s%s", used ? " " : "",
                                                  serror_mce_status_bit_name(bit));
        serror_mce_status_decode(status, &f);
        serror_mce_code_describe(f.mca_code, text, sizeof(text));
        tap_ok(streq(names, bits) && f.mca_code == code && streq(text, code_text) && f.val == !!(status >> 63),
               "0x%016" PRIx64 ": %s, code 0x%04" PRIx16 " (%s)", status, names, f.mca_code, text);
}

static void test_decode(void) {
        serror_mce_status_fields f;
        char text[64];

        /* DOMAIN.md section 8. */
        check_decode(0x9c00000000000001, "VAL EN MISCV ADDRV", 0x0001, "unclassified");
        check_decode(0xbd80000000000134, "VAL UC EN MISCV ADDRV S AR", 0x0134, "cache hierarchy: data read, data, level 0");
        check_decode(0xbd000000000000c0, "VAL UC EN MISCV ADDRV S", 0x00c0,
                     "memory controller: memory scrubbing, channel 0");
        check_decode(0xbc00000000000010, "VAL UC EN MISCV ADDRV", 0x0010, "TLB: instruction, level 0");
        check_decode(0xb200000000000000, "VAL UC EN PCC", 0x0000, "no error");
        check_decode(0xb000000000000150, "VAL UC EN", 0x0150, "cache hierarchy: instruction fetch, instruction, level 0");
        check_decode(0xc00000000000017a, "VAL OVER", 0x017a, "cache hierarchy: eviction, generic, level 2");
        check_decode(0x800000000000000f, "VAL", 0x000f, "generic memory hierarchy: generic level");
        check_decode(0x800000000000009f, "VAL", 0x009f, "memory controller: memory read, channel not specified");
        check_decode(0x8000000000001126, "VAL", 0x1126,
                     "cache hierarchy: generic write, data, level 2, corrected reports filtered");
        check_decode(0x8000000000000e0b, "VAL", 0x0e0b, "I/O error");
        check_decode(0x8000000000000400, "VAL", 0x0400, "internal timer error");
        check_decode(0x8000000000000401, "VAL", 0x0401, "internal unclassified");
        check_decode(0x8000000000000d11, "VAL", 0x0d11,
                     "bus and interconnect: local processor observed the error as a third party, generic read, "
                     "memory access, level 1, timed out");
        check_decode(0x80000000000000f0, "VAL", 0x00f0, "memory controller: reserved, channel 0");
        check_decode(0x8000000000002000, "VAL", 0x2000, "reserved encoding");
        check_decode(0x8000000000000007, "VAL", 0x0007, "reserved encoding");

        /* The fields above the error code. */
        serror_mce_status_decode(SERROR_MCI_VAL | (UINT64_C(3) << 53) | (UINT64_C(0x7fff) << 38) |
                                         (UINT64_C(0x00ab) << 16) | 0xcdef,
                                 &f);
        tap_ok(f.model_code == 0x00ab && f.mca_code == 0xcdef && f.corrected_count == 0x7fff && f.threshold == 3 &&
                       f.other_info == 0 && !f.uc,
               "model code 0x%04" PRIx16 ", count %" PRIu16 ", threshold %" PRIu8, f.model_code, f.corrected_count,
               f.threshold);
        serror_mce_status_decode(UINT64_C(0x8000003f00000000), &f);
        tap_ok(f.other_info == 0x3f && f.corrected_count == 0, "other information in bits 37:32");
        tap_ok(serror_mce_status_decode(0, NULL) == -EINVAL, "decode refuses NULL");

        tap_ok(streq(serror_mce_mcg_bit_name(0), "RIPV") && streq(serror_mce_mcg_bit_name(1), "EIPV") &&
                       streq(serror_mce_mcg_bit_name(2), "MCIP") && streq(serror_mce_mcg_bit_name(3), "LMCE_S") &&
                       !serror_mce_mcg_bit_name(4) && !serror_mce_mcg_bit_name(64) &&
                       !serror_mce_status_bit_name(54) && !serror_mce_status_bit_name(64),
               "MCG_STATUS bit names; unnamed bits have none");
        tap_ok(serror_mce_code_describe(0x134, NULL, 0) == (int) strlen("cache hierarchy: data read, data, level 0") &&
                       serror_mce_code_describe(0x134, text, 6) == 41 && streq(text, "cache"),
               "code descriptions measure and truncate like snprintf");
}

static void test_format(void) {
        serror_mce m = { .bank = 2, .status = 0xbd80000000000134, .addr = 0x1234000, .misc = 0x86, .mcg_status = 0x7 };
        char buf[160], small[8];
        int n;

        n = serror_mce_format(&m, buf, sizeof(buf));
        tap_ok(streq(buf, "mce:status=0xbd80000000000134,bank=2,addr=0x1234000,misc=0x86,mcg=0x7") &&
                       n == (int) strlen(buf),
               "canonical form: %s", buf);
        tap_ok(serror_mce_format(&m, NULL, 0) == n && serror_mce_format(&m, small, sizeof(small)) == n &&
                       streq(small, "mce:sta"),
               "format measures and truncates like snprintf");
        m.status = 0xb000000000000000;
        m.addr = m.misc = 0;
        serror_mce_format(&m, buf, sizeof(buf));
        tap_ok(streq(buf, "mce:status=0xb000000000000000,bank=2,mcg=0x7"), "no addr= or misc= without ADDRV, MISCV: %s",
               buf);
        tap_ok(serror_mce_format(NULL, buf, sizeof(buf)) == -EINVAL, "format refuses NULL");
}

static void test_classes(void) {
        static const char *const names[] = { "ce", "ucna", "srao", "srar", "fatal" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                tap_ok(streq(serror_mce_class_to_string((serror_mce_class) i), names[i]) &&
                               serror_mce_class_describe((serror_mce_class) i),
                       "class %zu is %s", i, names[i]);
        tap_ok(ELEMENTSOF(names) == _SERROR_MCE_CLASS_MAX && !serror_mce_class_to_string(_SERROR_MCE_CLASS_MAX) &&
                       !serror_mce_class_describe(_SERROR_MCE_CLASS_MAX),
               "no class beyond fatal");
        /* Severity is the order of the enum. */
        tap_ok(SERROR_MCE_CE < SERROR_MCE_UCNA && SERROR_MCE_UCNA < SERROR_MCE_SRAO && SERROR_MCE_SRAO < SERROR_MCE_SRAR &&
                       SERROR_MCE_SRAR < SERROR_MCE_FATAL,
               "classes rise in harm: ce < ucna < srao < srar < fatal");
        tap_ok(streq(serror_mcip_to_string(SERROR_MCIP_CLEAR), "clear") &&
                       streq(serror_mcip_to_string(SERROR_MCIP_SET), "set") &&
                       streq(serror_mcip_to_string(SERROR_MCIP_UNKNOWN), "unknown") &&
                       !serror_mcip_to_string(_SERROR_MCIP_MAX),
               "MCIP state names");
}

enum { CLEAR = SERROR_MCIP_CLEAR, SET = SERROR_MCIP_SET, UNKNOWN = SERROR_MCIP_UNKNOWN };
enum { MERGE = SERROR_MODE_MERGE, DEFER = SERROR_MODE_DEFER, SKIP = SERROR_MODE_SKIP };
enum { WRITE = SERROR_ACTION_WRITE, NONE = SERROR_ACTION_NONE, WAIT = SERROR_ACTION_WAIT };
enum {
        INJECTED = SERROR_OUTCOME_INJECTED,
        COALESCED = SERROR_OUTCOME_COALESCED,
        DEFERRED = SERROR_OUTCOME_DEFERRED,
        SKIPPED = SERROR_OUTCOME_SKIPPED,
};

/* The table in mce.h, row by row: MCIP state, incoming, mode -> action,
 * outcome. WRITE is the only action that calls KVM_X86_SET_MCE. */
static const struct decide_row {
        int mcip;
        const char *incoming;
        int mode;
        int action;
        int outcome;
} decide_rows[] = {
        /* MCIP clear: always written. */
        { CLEAR, "mce:ce", MERGE, WRITE, INJECTED },
        { CLEAR, "mce:ce", DEFER, WRITE, INJECTED },
        { CLEAR, "mce:ce", SKIP, WRITE, INJECTED },
        { CLEAR, "ucna", MERGE, WRITE, INJECTED },
        { CLEAR, "ucna", DEFER, WRITE, INJECTED },
        { CLEAR, "ucna", SKIP, WRITE, INJECTED },
        { CLEAR, "srao", MERGE, WRITE, INJECTED },
        { CLEAR, "srao", DEFER, WRITE, INJECTED },
        { CLEAR, "srao", SKIP, WRITE, INJECTED },
        { CLEAR, "srar", MERGE, WRITE, INJECTED },
        { CLEAR, "srar", DEFER, WRITE, INJECTED },
        { CLEAR, "srar", SKIP, WRITE, INJECTED },
        { CLEAR, "fatal", MERGE, WRITE, INJECTED },
        { CLEAR, "fatal", DEFER, WRITE, INJECTED },
        { CLEAR, "fatal", SKIP, WRITE, INJECTED },
        /* MCIP set: a corrected error is only logged, in every mode. */
        { SET, "mce:ce", MERGE, WRITE, INJECTED },
        { SET, "mce:ce", DEFER, WRITE, INJECTED },
        { SET, "mce:ce", SKIP, WRITE, INJECTED },
        /* MCIP set: a UCNA would zero MCG_STATUS under the handler. */
        { SET, "ucna", MERGE, NONE, COALESCED },
        { SET, "ucna", DEFER, WAIT, DEFERRED },
        { SET, "ucna", SKIP, NONE, SKIPPED },
        /* MCIP set: a #MC would shut the guest down. */
        { SET, "srao", MERGE, NONE, COALESCED },
        { SET, "srao", DEFER, WAIT, DEFERRED },
        { SET, "srao", SKIP, NONE, SKIPPED },
        { SET, "srar", MERGE, NONE, COALESCED },
        { SET, "srar", DEFER, WAIT, DEFERRED },
        { SET, "srar", SKIP, NONE, SKIPPED },
        { SET, "fatal", MERGE, NONE, COALESCED },
        { SET, "fatal", DEFER, WAIT, DEFERRED },
        { SET, "fatal", SKIP, NONE, SKIPPED },
        /* A #MC without MCIP of its own still escalates. */
        { SET, "mce:uc,s,ripv", MERGE, NONE, COALESCED },
        /* Unknown counts as set. */
        { UNKNOWN, "mce:ce", MERGE, WRITE, INJECTED },
        { UNKNOWN, "mce:ce", SKIP, WRITE, INJECTED },
        { UNKNOWN, "ucna", MERGE, NONE, COALESCED },
        { UNKNOWN, "ucna", DEFER, WAIT, DEFERRED },
        { UNKNOWN, "srao", MERGE, NONE, COALESCED },
        { UNKNOWN, "srar", DEFER, WAIT, DEFERRED },
        { UNKNOWN, "fatal", SKIP, NONE, SKIPPED },
};

static void test_decide(void) {
        serror_mce srao;
        serror_mce_decision d = { .action = SERROR_ACTION_NONE }, untouched = d;
        serror_diag diag;

        for (size_t i = 0; i < ELEMENTSOF(decide_rows); i++) {
                const struct decide_row *row = &decide_rows[i];
                serror_mce m;
                int r = serror_mce_parse(row->incoming, &m, &diag);

                if (r == 0)
                        r = serror_mce_decide((serror_mcip) row->mcip, &m, (serror_mode) row->mode, &d);
                tap_ok(r == 0 && (int) d.action == row->action && (int) d.outcome == row->outcome && d.reason &&
                               *d.reason,
                       "MCIP %s, %s, %s: %s, %s (%s)", serror_mcip_to_string((serror_mcip) row->mcip), row->incoming,
                       serror_mode_to_string((serror_mode) row->mode), row->action == WRITE ? "written" : "not written",
                       serror_outcome_to_string((serror_outcome) row->outcome), r == 0 ? d.reason : diag.message);
        }

        (void) serror_mce_parse("srao", &srao, &diag);
        d = untouched;
        tap_ok(serror_mce_decide(_SERROR_MCIP_MAX, &srao, SERROR_MODE_MERGE, &d) == -EINVAL &&
                       serror_mce_decide(SERROR_MCIP_SET, &srao, _SERROR_MODE_MAX, &d) == -EINVAL &&
                       serror_mce_decide(SERROR_MCIP_SET, NULL, SERROR_MODE_MERGE, &d) == -EINVAL &&
                       serror_mce_decide(SERROR_MCIP_SET, &srao, SERROR_MODE_MERGE, NULL) == -EINVAL &&
                       d.action == untouched.action && !d.reason,
               "decide refuses a bad MCIP state, mode or pointer and writes nothing");
}

static void test_raises_mc(void) {
        static const struct {
                const char *text;
                bool raises;
        } rows[] = {
                /* KVM's is_ucna(): UC without PCC, S, AR and with MCG_STATUS 0. */
                { "mce:ce", false }, { "ucna", false },         { "mce:uc", false },    { "srao", true },
                { "srar", true },    { "fatal", true },         { "mce:uc,pcc", true }, { "mce:uc,s", true },
                { "mce:uc,lmce", true }, { "mce:ucna,ripv", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                serror_mce m;
                serror_diag diag;

                tap_ok(serror_mce_parse(rows[i].text, &m, &diag) == 0 && serror_mce_raises_mc(&m) == rows[i].raises,
                       "%s %s", rows[i].text, rows[i].raises ? "raises a #MC" : "raises no #MC");
        }
}

static void test_severity(void) {
        static const struct {
                const char *text;
                int severity;
        } rows[] = {
                { "mce:ce", SERROR_SEVERITY_CE },     { "ucna", SERROR_SEVERITY_UEO },
                { "srao", SERROR_SEVERITY_UEO },      { "srar", SERROR_SEVERITY_UER },
                { "fatal", SERROR_SEVERITY_UC },      { "srao,pcc", SERROR_SEVERITY_UC },
                { "srar,mcg=0x5", SERROR_SEVERITY_UER },
        };
        serror_mce m = { .bank = 40 };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                serror_mce parsed;
                int r = serror_mce_parse(rows[i].text, &parsed, NULL);

                tap_ok(r == 0 && serror_mce_severity(&parsed) == rows[i].severity,
                       "the severity guard ranks %s as %d (got r=%d, %d)", rows[i].text, rows[i].severity, r,
                       r == 0 ? serror_mce_severity(&parsed) : -1);
        }
        tap_ok(serror_mce_severity(&m) == SERROR_SEVERITY_UC && serror_mce_severity(NULL) == SERROR_SEVERITY_UC,
               "an invalid machine check (bank 40) or NULL ranks as UC");
}

int main(void) {
        test_presets();
        test_severity();
        test_items();
        test_refusals();
        test_text_is_mce();
        test_turkish_locale();
        test_decode();
        test_format();
        test_classes();
        test_raises_mc();
        test_decide();
        return tap_done();
}
