/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine-check model against the values measured in DOMAIN.md section 8 and hand-written cases. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "macro.h"
#include "serror/mce.h"
#include "tap.h"

static void check_parse(const char *text, uint32_t bank, uint64_t status, uint64_t addr, uint64_t misc, uint64_t mcg,
                        const char *class_name) {
        serror_mce m = {}, back = {};
        serror_diag diag = {};
        char canon[160];
        int r = serror_mce_parse(text, &m, &diag);

        tap_ok(r == 0 && m.bank == bank && m.status == status && m.addr == addr && m.misc == misc &&
                       m.mcg_status == mcg && strcmp(serror_mce_class_to_string(serror_mce_classify(&m)), class_name) == 0,
               "%s: bank %" PRIu32 ", status 0x%016" PRIx64 ", addr 0x%" PRIx64 ", misc 0x%" PRIx64
               ", mcg 0x%" PRIx64 ", %s (%s)", text, m.bank, m.status, m.addr, m.misc, m.mcg_status,
               serror_mce_class_to_string(serror_mce_classify(&m)), r < 0 ? diag.message : "ok");
        serror_mce_format(&m, canon, sizeof(canon));
        tap_ok(serror_mce_parse(canon, &back, &diag) == 0 && memcmp(&back, &m, sizeof(m)) == 0,
               "%s: its canonical form %s reads back equal", text, canon);
}

static void check_refused(const char *text, const char *want) {
        serror_mce m;
        serror_diag diag = {};
        int r = serror_mce_parse(text, &m, &diag);

        tap_ok(r == -EINVAL && strstr(diag.message, want), "%s refused: %s", text, diag.message);
}

static const struct decide_row {
        bool mcip;
        const char *incoming;
        serror_mode mode;
        serror_action action;
        serror_outcome outcome;
        const char *why;
} decide_rows[] = {
        { false, "srao", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, "MCIP clear: written" },
        { false, "srar", SERROR_MODE_DEFER, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED, "MCIP clear, defer: written" },
        { true, "srao", SERROR_MODE_MERGE, SERROR_ACTION_NONE, SERROR_OUTCOME_COALESCED,
          "MCIP set, a #MC: merge writes nothing rather than shut the guest down" },
        { true, "srar", SERROR_MODE_DEFER, SERROR_ACTION_WAIT, SERROR_OUTCOME_DEFERRED,
          "MCIP set, a #MC: defer waits until the guest clears MCIP" },
        { true, "fatal", SERROR_MODE_SKIP, SERROR_ACTION_NONE, SERROR_OUTCOME_SKIPPED, "MCIP set, skip: dropped" },
        { true, "mce:ce", SERROR_MODE_MERGE, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED,
          "MCIP set, a corrected error raises no #MC: logged, harmless" },
        { true, "ucna", SERROR_MODE_SKIP, SERROR_ACTION_WRITE, SERROR_OUTCOME_INJECTED,
          "MCIP set, UCNA raises no #MC: logged even with skip" },
};

int main(void) {
        /* DOMAIN.md section 8: the values KVM_X86_SET_MCE took and the guest read. */
        check_parse("srao", 1, 0xbd000000000000c0, 0, 0, 0x5, "srao");
        check_parse("mce:srao", 1, 0xbd000000000000c0, 0, 0, 0x5, "srao");
        check_parse("SRAR", 1, 0xbd80000000000134, 0, 0, 0x7, "srar");
        check_parse("ucna", 1, 0xbc00000000000010, 0, 0, 0, "ucna");
        check_parse("mce:ce", 1, 0x9c00000000000001, 0, 0, 0, "ce");
        check_parse("fatal", 1, 0xb200000000000000, 0, 0, 0x6, "fatal");
        /* Built from items. */
        check_parse("mce:bank=1,uc,pcc,addr=0x1000,misc=0x86", 1, 0xb600000000000000 | SERROR_MCI_ADDRV | SERROR_MCI_MISCV,
                    0x1000, 0x86, 0, "fatal");
        check_parse("mce:srao,bank=3,addr=0x7fff000", 3, 0xbd000000000000c0, 0x7fff000, 0, 0x5, "srao");
        check_parse("mce:uc,s,ar,code=0x134,ripv,eipv,mcip", 1, 0xb180000000000134, 0, 0, 0x7, "srar");
        check_parse("mce:status=0x9c00000000000001,bank=0", 0, 0x9c00000000000001, 0, 0, 0, "ce");
        check_parse("mce:uc,s,mcip", 1, 0xb100000000000000, 0, 0, 0x4, "fatal");

        check_refused("mce:srao,bank=40", "bank 40 is beyond the 32 banks KVM supports");
        check_refused("mce:status=0x1c00000000000001", "without VAL");
        check_refused("mce:ar", "ar (action required) needs s and uc");
        check_refused("mce:s", "s (signalled) needs uc");
        check_refused("mce:pcc", "pcc (processor context corrupt) needs uc");
        check_refused("mce:foo", "unknown item 'foo'");
        check_refused("mce:uc,srao", "the preset 'srao' must come first");
        check_refused("mce:code=0x10000", "wider than the 16-bit MCA error code");
        check_refused("mce:addr=zz", "invalid addr=");
        check_refused("mce:", "nothing after mce:");
        check_refused("mce:mcg=0x8", "has bits other than RIPV, EIPV and MCIP");
        check_refused("uer", "is not a machine check");

        tap_ok(serror_mce_text_is_mce("srao") && serror_mce_text_is_mce("MCE:ce") && !serror_mce_text_is_mce("ce") &&
                       !serror_mce_text_is_mce("uer") && !serror_mce_text_is_mce("iss=0xc11"),
               "bare srao is a machine check; bare ce and the SError forms are not");

        for (size_t i = 0; i < ELEMENTSOF(decide_rows); i++) {
                const struct decide_row *d = &decide_rows[i];
                serror_mce m;
                serror_decision dec;
                serror_diag diag;

                tap_ok(serror_mce_parse(d->incoming, &m, &diag) == 0 &&
                               serror_mce_decide(d->mcip, &m, d->mode, &dec) == 0 && dec.action == d->action &&
                               dec.outcome == d->outcome,
                       "%s: %s %s gives %s", d->why, d->incoming, serror_mode_to_string(d->mode),
                       serror_outcome_to_string(d->outcome));
        }
        return tap_done();
}
