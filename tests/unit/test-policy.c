/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for policy parsing and validation: every rule with its exact path and message, and target matching. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"
#include "stop.h"
#include "serror/syndrome.h"
#include "tap.h"

#define TARGETS "{\"names\": [\"vm-1\"]}"
#define ERROR "\"uer\""
#define SCHEDULE "{\"type\": \"interval\", \"period\": \"1s\"}"

static PolicyDiag diag;

/* A policy from its parts; extra is appended inside the top object. */
static const char *make(const char *targets, const char *error, const char *schedule, const char *extra) {
        static char buf[8192];

        snprintf(buf, sizeof(buf), "{\"name\": \"t\", \"targets\": %s, \"error\": %s, \"schedule\": %s%s%s}", targets,
                 error, schedule, extra ? ", " : "", extra ?: "");
        return buf;
}

static void dump_diag(void) {
        for (size_t i = 0; i < diag.n_errors; i++) {
                char line[512];

                policy_error_format(&diag.errors[i], line, sizeof(line));
                tap_diag("  %s", line);
        }
}

static Policy *parse_ok(const char *text, const char *what) {
        Policy *p = NULL;
        int r = policy_parse(text, strlen(text), &p, &diag);

        if (!tap_ok(r == 0 && p && diag.n_errors == 0, "valid: %s", what)) {
                tap_diag("r=%d for %s", r, text);
                dump_diag();
        }
        return p;
}

/* Exactly one error, with this path and message. */
static void expect(const char *text, const char *path, const char *message) {
        Policy *p = (Policy *) 0x1;
        int r = policy_parse(text, strlen(text), &p, &diag);
        bool ok = r == -EINVAL && p == (Policy *) 0x1 && diag.n_errors == 1 && streq(diag.errors[0].path, path) &&
                  streq(diag.errors[0].message, message);

        if (!tap_ok(ok, "%s: %s", path, message)) {
                tap_diag("r=%d, %zu errors, for %s", r, diag.n_errors, text);
                dump_diag();
        }
}

/* Among the errors, one with this path and message. */
static void expect_among(const char *text, const char *path, const char *message) {
        Policy *p = NULL;
        int r = policy_parse(text, strlen(text), &p, &diag);
        bool found = false;

        for (size_t i = 0; i < diag.n_errors; i++)
                found = found || (streq(diag.errors[i].path, path) && streq(diag.errors[i].message, message));
        if (!tap_ok(r == -EINVAL && !p && found, "%s: %s (among others)", path, message)) {
                tap_diag("r=%d for %s", r, text);
                dump_diag();
        }
        policy_free(p);
}

/* One error at this line and column. */
static void expect_at(const char *text, unsigned line, unsigned column, const char *path, const char *message) {
        Policy *p = NULL;
        int r = policy_parse(text, strlen(text), &p, &diag);
        bool ok = r == -EINVAL && diag.n_errors == 1 && diag.errors[0].line == line &&
                  diag.errors[0].column == column && streq(diag.errors[0].path, path) &&
                  streq(diag.errors[0].message, message);

        if (!tap_ok(ok, "%u:%u: %s%s%s", line, column, path, *path ? ": " : "", message)) {
                tap_diag("r=%d for %s", r, text);
                dump_diag();
        }
        policy_free(p);
}

static void test_text(void) {
        char *big, deep[128] = "";
        Policy *p = NULL;
        int r;

        expect("", ".", "the policy is empty: expected a JSON object such as {\"name\": \"...\", \"targets\": ..., "
               "\"error\": ..., \"schedule\": ...}");
        expect(" \n\t ", ".", "the policy is empty: expected a JSON object such as {\"name\": \"...\", \"targets\": "
               "..., \"error\": ..., \"schedule\": ...}");
        expect_at("{\n  \"name\": \"x\"\n", 3, 1, "",
                  "the text ends inside a JSON value (an object, array or string is not closed)");
        expect_at("{\n  \"name\": \"x\",\n}", 3, 1, "", "JSON syntax error: unexpected character");
        expect_at("{\"a\": 1} x", 1, 10, "", "JSON syntax error: unexpected character");
        for (int i = 0; i < 17; i++)
                strcat(deep, "[");
        expect_at(deep, 1, 17, "", "nested more than 16 levels deep");
        expect_at("{\"name\": \"\xff\"}", 1, 11, "", "not valid UTF-8");
        r = policy_parse("{\"name\":\0\"x\"}", 13, &p, &diag);
        tap_ok(r == -EINVAL && diag.n_errors == 1 && diag.errors[0].line == 1 && diag.errors[0].column == 9 &&
               streq(diag.errors[0].message, "a NUL byte: a policy is UTF-8 text"),
               "1:9: a NUL byte: a policy is UTF-8 text");

        big = malloc(POLICY_TEXT_MAX + 2);
        memset(big, ' ', POLICY_TEXT_MAX + 1);
        big[POLICY_TEXT_MAX + 1] = '\0';
        r = policy_parse(big, POLICY_TEXT_MAX + 1, &p, &diag);
        tap_ok(r == -EFBIG && diag.n_errors == 1 && streq(diag.errors[0].path, ".") &&
               streq(diag.errors[0].message, "the policy is 1048577 bytes long, at most 1048576 allowed"),
               "-EFBIG: the policy is 1048577 bytes long, at most 1048576 allowed");
        free(big);

        expect("[1, 2]", ".",
               "expected a JSON object with \"name\", \"targets\", \"error\" and \"schedule\", got an array");
        expect("42", ".", "expected a JSON object with \"name\", \"targets\", \"error\" and \"schedule\", got 42");

        /* What json-c lets through but JSON does not. */
        expect_at("{'name': \"t\", \"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}", 1, 2,
                  ".name", "single-quoted strings are not JSON: use double quotes");
        expect_at(make(TARGETS, ERROR, SCHEDULE, "\"description\": 'x'"), 1, 128, "",
                  "JSON syntax error: unexpected character");
        expect_among(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": NaN}", NULL), ".schedule.rate",
                     "NaN is not a JSON number");
        expect_among(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": -Infinity}", NULL), ".schedule.rate",
                     "-Infinity is not a JSON number");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 2.}", NULL), ".schedule.rate",
               "2. is not a JSON number (write it as e.g. 1, 1.5 or 2e3)");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"description\": \"a\x01z\""), ".description",
               "raw control character 0x01 in a string: JSON needs it escaped (\\u0001)");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"description\": \"a\\u0000z\""), ".description",
               "\\u0000 in a string: a NUL character is not allowed");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"description\": \"a\\ud800z\""), ".description",
               "\\ud800 is half of a surrogate pair, the other half is missing");
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, "\"description\": \"\\ud83d\\ude00 \\u00e9\""),
                     "a surrogate pair and other escapes");
        tap_ok(p && streq(p->description, "\xf0\x9f\x98\x80 \xc3\xa9"), "escapes decode to UTF-8");
        p = policy_free(p);
        expect_at("{\"name\": \"a\",\n \"name\": \"b\", \"targets\": " TARGETS ", \"error\": " ERROR
                  ", \"schedule\": " SCHEDULE "}",
                  2, 2, ".name", "key given twice (also on line 1); only the last one would count");

        p = parse_ok("\xef\xbb\xbf{\"name\": \"t\", \"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": "
                     SCHEDULE "}", "a leading UTF-8 byte order mark is skipped");
        p = policy_free(p);
        expect_at("\xef\xbb\xbf{\"name\": \"t\", \"targets\": " TARGETS ", \"error\": \"x\", \"schedule\": " SCHEDULE "}",
                  1, 50, ".error",
                  "unknown syndrome field 'x' (known: uc, ueu, ueo, uer, ce, aet=, iesb, ea, dfsc=, iss=, impdef=, "
                  "or a number for the whole ISS)");
}

static void test_top(void) {
        char text[512], name[80];
        Policy *p;

        expect(make(TARGETS, ERROR, SCHEDULE, "\"targts\": 1"), ".targts", "unknown key; did you mean \"targets\"?");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"colour\": 1"), ".colour",
               "unknown key (known here: name, description, targets, error, schedule, start_delay, duration, "
               "max_injections, seed, stop_when)");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"rate\": 1"), ".rate",
               "unknown key here: \"rate\" belongs inside \"schedule\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"vcpus\": 1"), ".vcpus",
               "unknown key here: \"vcpus\" belongs inside \"targets\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"on_pending\": \"skip\""), ".on_pending",
               "unknown key here: \"on_pending\" belongs inside \"error\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"my key\": 1"), ".[\"my key\"]",
               "unknown key (known here: name, description, targets, error, schedule, start_delay, duration, "
               "max_injections, seed, stop_when)");

        expect("{\"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}", ".name",
               "required: a name for the policy, such as \"ce-storm\"");
        expect("{\"name\": 5, \"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}", ".name",
               "expected a policy name such as \"ce-storm\", got 5");
        expect("{\"name\": \"bad name\", \"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}",
               ".name", "\"bad name\" is not a valid policy name: use 1 to 64 characters from A-Z a-z 0-9 - _ ., "
               "starting with a letter or digit");
        expect("{\"name\": \"\", \"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}",
               ".name", "\"\" is not a valid policy name: use 1 to 64 characters from A-Z a-z 0-9 - _ ., "
               "starting with a letter or digit");
        expect("{\"name\": \"-x\", \"targets\": " TARGETS ", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}",
               ".name", "\"-x\" is not a valid policy name: use 1 to 64 characters from A-Z a-z 0-9 - _ ., "
               "starting with a letter or digit");
        memset(name, 'a', 65);
        name[65] = '\0';
        snprintf(text, sizeof(text), "{\"name\": \"%s\", \"targets\": %s, \"error\": %s, \"schedule\": %s}", name,
                 TARGETS, ERROR, SCHEDULE);
        expect(text, ".name", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not a valid policy name: use "
               "1 to 64 characters from A-Z a-z 0-9 - _ ., starting with a letter or digit");
        name[64] = '\0';
        snprintf(text, sizeof(text), "{\"name\": \"%s\", \"targets\": %s, \"error\": %s, \"schedule\": %s}", name,
                 TARGETS, ERROR, SCHEDULE);
        p = parse_ok(text, "a 64-character name");
        policy_free(p);

        expect(make(TARGETS, ERROR, SCHEDULE, "\"description\": 1"), ".description", "expected a string, got 1");
        {
                char *long_text = malloc(1200 + 512);
                char desc[1100];

                memset(desc, 'd', 1025);
                desc[1025] = '\0';
                snprintf(long_text, 1200 + 512, "{\"name\": \"t\", \"targets\": %s, \"error\": %s, \"schedule\": %s, "
                         "\"description\": \"%s\"}", TARGETS, ERROR, SCHEDULE, desc);
                expect(long_text, ".description", "is 1025 bytes long, at most 1024 allowed");
                free(long_text);
        }

        expect("{\"name\": \"t\", \"error\": " ERROR ", \"schedule\": " SCHEDULE "}", ".targets",
               "required: the VMs and vcpus to inject into, e.g. {\"names\": [\"vm-1\"]}");
        expect("{\"name\": \"t\", \"targets\": " TARGETS ", \"schedule\": " SCHEDULE "}", ".error",
               "required: the syndrome to inject, such as \"uer\" or {\"syndrome\": \"ce\"}");
        expect("{\"name\": \"t\", \"targets\": " TARGETS ", \"error\": " ERROR "}", ".schedule",
               "required: when to inject, e.g. {\"type\": \"interval\", \"period\": \"1s\"}");
}

static void test_targets(void) {
        char text[4096], list[2048];
        size_t len;
        Policy *p;

        expect(make("[\"vm-1\"]", ERROR, SCHEDULE, NULL), ".targets",
               "expected an object such as {\"names\": [\"vm-1\"], \"vcpus\": \"all\"}, got an array");
        expect(make("{\"name\": [\"vm-1\"], \"globs\": [\"*\"]}", ERROR, SCHEDULE, NULL), ".targets.name",
               "unknown key; did you mean \"names\"?");
        expect(make("{\"vcpus\": \"all\"}", ERROR, SCHEDULE, NULL), ".targets",
               "selects no VM: give \"names\", \"globs\" or \"labels\" (\"globs\": [\"*\"] selects every VM)");

        /* names */
        expect(make("{\"names\": \"vm-1\"}", ERROR, SCHEDULE, NULL), ".targets.names",
               "expected a list of VM names such as [\"vm-1\", \"vm-2\"], got \"vm-1\"");
        expect(make("{\"names\": []}", ERROR, SCHEDULE, NULL), ".targets.names",
               "an empty list can never match: name at least one VM, or remove the key");
        expect(make("{\"names\": [\"vm-1\", 7]}", ERROR, SCHEDULE, NULL), ".targets.names[1]",
               "expected a VM name, got 7");
        expect(make("{\"names\": [\"web 1\"]}", ERROR, SCHEDULE, NULL), ".targets.names[0]",
               "\"web 1\" can never match: VM names are 1 to 64 characters from A-Z a-z 0-9 - _ . : + @, starting "
               "with a letter or digit");
        expect(make("{\"names\": [\"\"]}", ERROR, SCHEDULE, NULL), ".targets.names[0]",
               "\"\" can never match: VM names are 1 to 64 characters from A-Z a-z 0-9 - _ . : + @, starting with a "
               "letter or digit");
        expect(make("{\"names\": [\"web-*\"]}", ERROR, SCHEDULE, NULL), ".targets.names[0]",
               "\"web-*\" is a glob, not a name: put it in \"globs\"");
        len = (size_t) snprintf(list, sizeof(list), "[");
        for (int i = 0; i < 65; i++)
                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s\"vm-%d\"", i ? ", " : "", i);
        snprintf(list + len, sizeof(list) - len, "]");
        snprintf(text, sizeof(text), "{\"names\": %s}", list);
        expect(make(text, ERROR, SCHEDULE, NULL), ".targets.names", "has 65 entries, at most 64 allowed");

        /* globs */
        expect(make("{\"globs\": []}", ERROR, SCHEDULE, NULL), ".targets.globs",
               "an empty list can never match: give at least one pattern, or remove the key");
        expect(make("{\"globs\": [\"\"]}", ERROR, SCHEDULE, NULL), ".targets.globs[0]",
               "an empty pattern can never match");
        expect(make("{\"globs\": [\"web *\"]}", ERROR, SCHEDULE, NULL), ".targets.globs[0]",
               "\"web *\" can never match: ' ' cannot appear in a VM name");
        expect(make("{\"globs\": [\"web/*\"]}", ERROR, SCHEDULE, NULL), ".targets.globs[0]",
               "\"web/*\" can never match: '/' cannot appear in a VM name");
        expect(make("{\"globs\": [\"[ab\"]}", ERROR, SCHEDULE, NULL), ".targets.globs[0]",
               "\"[ab\" can never match: its '[' at offset 0 is never closed");
        expect(make("{\"globs\": [\"-web*\"]}", ERROR, SCHEDULE, NULL), ".targets.globs[0]",
               "\"-web*\" can never match: VM names start with a letter or digit, not '-'");
        expect(make("{\"globs\": [\"*\", {}]}", ERROR, SCHEDULE, NULL), ".targets.globs[1]",
               "expected a glob pattern such as \"web-*\", got an object");
        memset(list, 'a', 129);
        list[129] = '\0';
        snprintf(text, sizeof(text), "{\"globs\": [\"%s\"]}", list);
        expect(make(text, ERROR, SCHEDULE, NULL), ".targets.globs[0]", "is 129 bytes long, at most 128 allowed");
        len = (size_t) snprintf(list, sizeof(list), "[");
        for (int i = 0; i < 65; i++)
                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s\"g%d*\"", i ? ", " : "", i);
        snprintf(list + len, sizeof(list) - len, "]");
        snprintf(text, sizeof(text), "{\"globs\": %s}", list);
        expect(make(text, ERROR, SCHEDULE, NULL), ".targets.globs", "has 65 entries, at most 64 allowed");
        p = parse_ok(make("{\"globs\": [\"*-[0-9]\", \"db\\\\-?\", \"[!x]y\"]}", ERROR, SCHEDULE, NULL),
                     "globs with ranges, escapes and negation");
        policy_free(p);

        /* labels */
        expect(make("{\"labels\": [\"env=test\"]}", ERROR, SCHEDULE, NULL), ".targets.labels",
               "expected an object of label values such as {\"env\": \"test\"}, got an array");
        expect(make("{\"labels\": {}}", ERROR, SCHEDULE, NULL), ".targets.labels",
               "is empty: name at least one label, or remove the key");
        len = (size_t) snprintf(list, sizeof(list), "{");
        for (int i = 0; i < 17; i++)
                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s\"k%d\": \"v\"", i ? ", " : "", i);
        snprintf(list + len, sizeof(list) - len, "}");
        snprintf(text, sizeof(text), "{\"labels\": %s}", list);
        expect(make(text, ERROR, SCHEDULE, NULL), ".targets.labels",
               "can never match: it asks for 17 labels, and a VM carries at most 16");
        expect(make("{\"labels\": {\"bad key\": \"x\"}}", ERROR, SCHEDULE, NULL), ".targets.labels[\"bad key\"]",
               "label key can never match: keys are 1 to 63 characters from A-Z a-z 0-9 - _ . /, starting with a "
               "letter or digit");
        expect(make("{\"labels\": {\"env\": 3}}", ERROR, SCHEDULE, NULL), ".targets.labels.env",
               "expected a label value (a string), got 3");
        expect(make("{\"labels\": {\"env\": \"a\\tb\"}}", ERROR, SCHEDULE, NULL), ".targets.labels.env",
               "\"a\\tb\" can never match: label values are 0 to 127 printable ASCII characters");
        memset(list, 'v', 128);
        list[128] = '\0';
        snprintf(text, sizeof(text), "{\"labels\": {\"env\": \"%s\"}}", list);
        expect(make(text, ERROR, SCHEDULE, NULL), ".targets.labels.env",
               "\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv...\" can never match: label values are 0 to 127 "
               "printable ASCII characters");
        p = parse_ok(make("{\"labels\": {\"env\": \"\", \"app.kubernetes.io/name\": \"a = b\"}}", ERROR, SCHEDULE,
                          NULL),
                     "an empty label value, and a key with dots and a slash");
        policy_free(p);

        /* vcpus */
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": \"5-3\"}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "range 5-3 is empty");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": [1, \"3-2\"]}", ERROR, SCHEDULE, NULL), ".targets.vcpus[1]",
               "range 3-2 is empty");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": 70000}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "vcpu 70000 is above the largest vcpu index, 65535");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": \"0-99999\"}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "vcpu 99999 is above the largest vcpu index, 65535");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": \"99999999999\"}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "vcpu 99999999999 is above the largest vcpu index, 65535");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": \"x\"}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "expected \"all\", a vcpu index, a range such as \"0-3\", or a list of those, got \"x\"");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": true}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "expected \"all\", a vcpu index, a range such as \"0-3\", or a list of those, got true");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": -1}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "expected \"all\", a vcpu index, a range such as \"0-3\", or a list of those, got -1");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": []}", ERROR, SCHEDULE, NULL), ".targets.vcpus",
               "an empty list can never match: write \"all\", or list vcpu indexes");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": [0, \"all\"]}", ERROR, SCHEDULE, NULL), ".targets.vcpus[1]",
               "\"all\" cannot be part of a list: write \"vcpus\": \"all\"");
        expect(make("{\"names\": [\"vm-1\"], \"vcpus\": [0, \" 1\"]}", ERROR, SCHEDULE, NULL), ".targets.vcpus[1]",
               "expected \"all\", a vcpu index, a range such as \"0-3\", or a list of those, got \" 1\"");
        len = (size_t) snprintf(list, sizeof(list), "[");
        for (int i = 0; i < 257; i++)
                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%d", i ? "," : "", i);
        snprintf(list + len, sizeof(list) - len, "]");
        snprintf(text, sizeof(text), "{\"names\": [\"vm-1\"], \"vcpus\": %s}", list);
        expect(make(text, ERROR, SCHEDULE, NULL), ".targets.vcpus", "has 257 entries, at most 256 allowed");

        /* pick */
        expect(make("{\"names\": [\"vm-1\"], \"pick\": \"any\"}", ERROR, SCHEDULE, NULL), ".targets.pick",
               "expected \"one\" (a random target per event) or \"all\" (every target per event), got \"any\"");
        expect(make("{\"names\": [\"vm-1\"], \"pick\": 1}", ERROR, SCHEDULE, NULL), ".targets.pick",
               "expected \"one\" or \"all\", got 1");

        /* What a valid target section becomes. */
        p = parse_ok(make("{\"names\": [\"vm-b\", \"vm-a\"], \"globs\": [\"web-*\"], \"labels\": {\"zone\": \"b\", "
                          "\"env\": \"test\"}, \"vcpus\": [8, \"0-1\", 2, \"7-9\", 3, 12], \"pick\": \"all\"}",
                          ERROR, SCHEDULE, NULL),
                     "a full target section");
        tap_ok(p && p->n_names == 2 && streq(p->names[0], "vm-b") && streq(p->names[1], "vm-a") && p->n_globs == 1 &&
               streq(p->globs[0], "web-*") && p->pick == POLICY_PICK_ALL,
               "names and globs kept in file order, pick all");
        tap_ok(p && p->n_labels == 2 && streq(p->labels[0].key, "env") && streq(p->labels[0].value, "test") &&
               streq(p->labels[1].key, "zone"), "labels sorted by key");
        tap_ok(p && !p->all_vcpus && p->n_vcpus == 3 && p->vcpus[0].first == 0 && p->vcpus[0].last == 3 &&
               p->vcpus[1].first == 7 && p->vcpus[1].last == 9 && p->vcpus[2].first == 12 && p->vcpus[2].last == 12,
               "vcpus [8, 0-1, 2, 7-9, 3, 12] merge into 0-3, 7-9, 12");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, NULL), "the defaults");
        tap_ok(p && p->all_vcpus && p->n_vcpus == 0 && p->pick == POLICY_PICK_ONE && p->on_pending == SERROR_MODE_MERGE &&
               !p->allow_ids && !p->has_seed && p->duration_usec == 0 && p->max_injections == 0 &&
               p->start_delay_usec == 0 && !p->description,
               "defaults: all vcpus, pick one, merge, no IDS, no seed, no end");
        policy_free(p);
}

/* The syndrome model's own message for text, to check it is passed on as is. */
static const char *syndrome_message(const char *text, unsigned flags) {
        static serror_diag d;
        serror_syndrome s;

        memset(&d, 0, sizeof(d));
        (void) serror_syndrome_parse(text, flags, &s, &d);
        return d.message;
}

static void test_error(void) {
        Policy *p;

        expect(make(TARGETS, "5", SCHEDULE, NULL), ".error",
               "expected a syndrome such as \"uer\", or an object with \"syndrome\" or \"mix\", got 5");
        expect(make(TARGETS, "\"uerr\"", SCHEDULE, NULL), ".error",
               "unknown syndrome field 'uerr' (known: uc, ueu, ueo, uer, ce, aet=, iesb, ea, dfsc=, iss=, impdef=, or "
               "a number for the whole ISS)");
        expect(make(TARGETS, "{\"syndrome\": \"dfsc=uncategorized,iesb\"}", SCHEDULE, NULL), ".error.syndrome",
               syndrome_message("dfsc=uncategorized,iesb", 0));
        expect(make(TARGETS, "{\"syndrome\": \"0x1011\"}", SCHEDULE, NULL), ".error.syndrome",
               syndrome_message("0x1011", 0));
        expect(make(TARGETS, "{\"syndrome\": \"\"}", SCHEDULE, NULL), ".error.syndrome",
               "syndrome text is empty (expected e.g. 'uer', 'ce,iesb' or 'iss=0xc11')");
        expect_among(make(TARGETS, "{\"syndrom\": \"uer\"}", SCHEDULE, NULL), ".error.syndrom",
                     "unknown key; did you mean \"syndrome\"?");
        expect_among(make(TARGETS, "{\"syndrom\": \"uer\"}", SCHEDULE, NULL), ".error",
                     "says nothing to inject: give \"syndrome\" (one syndrome) or \"mix\" (a weighted list of "
                     "syndromes)");
        expect(make(TARGETS, "{\"on_pending\": \"skip\"}", SCHEDULE, NULL), ".error",
               "says nothing to inject: give \"syndrome\" (one syndrome) or \"mix\" (a weighted list of syndromes)");
        expect(make(TARGETS, "{\"syndrome\": \"uer\", \"mix\": []}", SCHEDULE, NULL), ".error",
               "give either \"syndrome\" or \"mix\", not both");

        /* Structured fields. */
        expect(make(TARGETS, "{\"syndrome\": {\"aet\": \"bogus\"}}", SCHEDULE, NULL), ".error.syndrome.aet",
               "expected an AET name (uc, ueu, ueo, uer or ce), got \"bogus\"");
        expect(make(TARGETS, "{\"syndrome\": {\"aet\": 3}}", SCHEDULE, NULL), ".error.syndrome.aet",
               "expected an AET name (uc, ueu, ueo, uer or ce), got 3");
        expect(make(TARGETS, "{\"syndrome\": {\"aet\": \"uer\", \"iesb\": \"yes\"}}", SCHEDULE, NULL),
               ".error.syndrome.iesb", "expected true or false, got \"yes\"");
        expect(make(TARGETS, "{\"syndrome\": {\"aet\": \"uer\", \"ias\": 1}}", SCHEDULE, NULL), ".error.syndrome.ias",
               "unknown key; did you mean \"iss\"?");
        expect(make(TARGETS, "{\"syndrome\": {}}", SCHEDULE, NULL), ".error.syndrome",
               "no syndrome fields: give at least \"aet\" (e.g. {\"aet\": \"uer\"}), or \"iss\" for a whole ISS");
        expect(make(TARGETS, "{\"syndrome\": {\"iesb\": false}}", SCHEDULE, NULL), ".error.syndrome",
               "no syndrome fields: give at least \"aet\" (e.g. {\"aet\": \"uer\"}), or \"iss\" for a whole ISS");
        expect(make(TARGETS, "{\"syndrome\": {\"aet\": \"uer\", \"iss\": 3089}}", SCHEDULE, NULL), ".error.syndrome",
               syndrome_message("aet=uer,iss=0xc11", 0));
        expect(make(TARGETS, "{\"syndrome\": {\"dfsc\": \"async,iesb\"}}", SCHEDULE, NULL), ".error.syndrome.dfsc",
               "expected \"async\", \"uncategorized\" or a number, got \"async,iesb\"");
        expect(make(TARGETS, "{\"syndrome\": {\"iss\": -1}}", SCHEDULE, NULL), ".error.syndrome.iss",
               "expected a number (an integer, or a string such as \"0xc11\"), got -1");
        expect(make(TARGETS, "{\"syndrome\": 7}", SCHEDULE, NULL), ".error.syndrome",
               "expected a syndrome such as \"uer\" or \"aet=ce,iesb\", or an object such as {\"aet\": \"uer\", "
               "\"iesb\": true}, got 7");

        /* IDS = 1 needs the opt-in. */
        expect(make(TARGETS, "{\"syndrome\": \"impdef=0x123456\"}", SCHEDULE, NULL), ".error.syndrome",
               "an IDS=1 (IMPLEMENTATION DEFINED) syndrome is outside KVM's documented ABI: set \"allow_ids\": true "
               "in \"error\" to opt in");
        expect(make(TARGETS, "{\"syndrome\": {\"impdef\": \"0x11\"}}", SCHEDULE, NULL), ".error.syndrome",
               "an IDS=1 (IMPLEMENTATION DEFINED) syndrome is outside KVM's documented ABI: set \"allow_ids\": true "
               "in \"error\" to opt in");
        expect(make(TARGETS, "\"0x1000c11\"", SCHEDULE, NULL), ".error",
               "an IDS=1 (IMPLEMENTATION DEFINED) syndrome is outside KVM's documented ABI: set \"allow_ids\": true "
               "in \"error\" to opt in");
        p = parse_ok(make(TARGETS, "{\"syndrome\": {\"impdef\": 1193046}, \"allow_ids\": true}", SCHEDULE, NULL),
                     "impdef with allow_ids");
        tap_ok(p && p->allow_ids && p->n_mix == 1 && p->mix[0].syndrome.ids && p->mix[0].syndrome.impdef == 0x123456,
               "IDS=1 impdef 0x123456 kept");
        policy_free(p);
        expect(make(TARGETS, "{\"syndrome\": \"uer\", \"allow_ids\": \"yes\"}", SCHEDULE, NULL), ".error.allow_ids",
               "expected true or false, got \"yes\"");
        expect(make(TARGETS, "{\"syndrome\": \"uer\", \"on_pending\": \"MERGE\"}", SCHEDULE, NULL),
               ".error.on_pending",
               "expected \"merge\", \"defer\" or \"skip\" (what to do when an SError is already pending), got "
               "\"MERGE\"");
        expect(make(TARGETS, "{\"syndrome\": \"uer\", \"on_pending\": 1}", SCHEDULE, NULL), ".error.on_pending",
               "expected \"merge\", \"defer\" or \"skip\", got 1");

        /* The mix. */
        expect(make(TARGETS, "{\"mix\": \"ce\"}", SCHEDULE, NULL), ".error.mix",
               "expected a list such as [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": \"uer\", \"weight\": "
               "1}], got \"ce\"");
        expect(make(TARGETS, "{\"mix\": []}", SCHEDULE, NULL), ".error.mix", "an empty mix has nothing to inject");
        expect(make(TARGETS, "{\"mix\": [\"ce\"]}", SCHEDULE, NULL), ".error.mix[0]",
               "expected an object such as {\"syndrome\": \"ce\", \"weight\": 3}, got \"ce\"");
        expect(make(TARGETS, "{\"mix\": [{\"weight\": 2}]}", SCHEDULE, NULL), ".error.mix[0].syndrome",
               "required: the syndrome this entry injects, such as \"ce\"");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": \"uer\"}, "
                    "{\"syndrome\": \"ce\", \"weight\": \"x\"}]}", SCHEDULE, NULL),
               ".error.mix[2].weight", "expected a positive integer, got \"x\"");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 0}]}", SCHEDULE, NULL),
               ".error.mix[0].weight", "must be between 1 and 1000000, got 0");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": -3}]}", SCHEDULE, NULL),
               ".error.mix[0].weight", "must be between 1 and 1000000, got -3");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 1000001}]}", SCHEDULE, NULL),
               ".error.mix[0].weight", "must be between 1 and 1000000, got 1000001");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 1.5}]}", SCHEDULE, NULL),
               ".error.mix[0].weight", "expected a positive integer, got 1.5");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"wieght\": 1}]}", SCHEDULE, NULL),
               ".error.mix[0].wieght", "unknown key; did you mean \"weight\"?");
        expect(make(TARGETS, "{\"mix\": [{\"syndrome\": \"bogus\"}]}", SCHEDULE, NULL), ".error.mix[0].syndrome",
               syndrome_message("bogus", 0));
        {
                char mix[4096];
                size_t len = (size_t) snprintf(mix, sizeof(mix), "{\"mix\": [");

                for (int i = 0; i < 33; i++)
                        len += (size_t) snprintf(mix + len, sizeof(mix) - len, "%s{\"syndrome\": \"ce\"}", i ? ", " : "");
                snprintf(mix + len, sizeof(mix) - len, "]}");
                expect(make(TARGETS, mix, SCHEDULE, NULL), ".error.mix", "has 33 entries, at most 32 allowed");
        }

        p = parse_ok(make(TARGETS, "{\"mix\": [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": {\"aet\": \"uer\", "
                          "\"iesb\": true, \"ea\": true}}, {\"syndrome\": {\"dfsc\": \"uncategorized\"}, \"weight\": 2},"
                          " {\"syndrome\": {\"iss\": \"0x811\"}, \"weight\": 1000000}], \"on_pending\": \"defer\"}",
                          SCHEDULE, NULL),
                     "a weighted mix of text and structured syndromes");
        tap_ok(p && p->n_mix == 4 && p->total_weight == 1000006 && p->mix[0].weight == 3 && p->mix[1].weight == 1 &&
               p->mix[2].weight == 2 && p->mix[3].weight == 1000000 && p->on_pending == SERROR_MODE_DEFER,
               "weights 3, 1 (the default), 2 and 1000000 sum to 1000006; defer");
        tap_ok(p && serror_syndrome_iss(&p->mix[0].syndrome) == 0x1811 &&
               serror_syndrome_iss(&p->mix[1].syndrome) == 0x2e11 && serror_syndrome_iss(&p->mix[2].syndrome) == 0 &&
               serror_syndrome_iss(&p->mix[3].syndrome) == 0x811,
               "the syndromes encode to ISS 0x1811, 0x2e11, 0x0 and 0x811");
        policy_free(p);
        p = parse_ok(make(TARGETS, "\"aet=ce,iesb\"", SCHEDULE, NULL), "\"error\" as a text syndrome");
        tap_ok(p && p->n_mix == 1 && p->total_weight == 1 && serror_syndrome_iss(&p->mix[0].syndrome) == 0x3811,
               "aet=ce,iesb is one entry of weight 1, ISS 0x3811");
        policy_free(p);
}

static void test_plan(void) {
        Policy *p;

        expect(make(TARGETS, ERROR, "\"1s\"", NULL), ".schedule",
               "expected an object such as {\"type\": \"interval\", \"period\": \"1s\"}, got \"1s\"");
        expect(make(TARGETS, ERROR, "{\"period\": \"1s\"}", NULL), ".schedule.type",
               "required: \"once\", \"interval\", \"poisson\" or \"burst\"");
        expect(make(TARGETS, ERROR, "{\"type\": 1}", NULL), ".schedule.type",
               "expected \"once\", \"interval\", \"poisson\" or \"burst\", got 1");
        expect(make(TARGETS, ERROR, "{\"type\": \"cron\"}", NULL), ".schedule.type",
               "unknown schedule type \"cron\" (known: once, interval, poisson, burst)");
        expect_among(make(TARGETS, ERROR, "{\"type\": \"cron\", \"when\": 1}", NULL), ".schedule.when",
                     "unknown key (known here: type, at, after, period, jitter, rate, count, spacing)");
        expect(make(TARGETS, ERROR, "{\"type\": \"interval\", \"period\": \"1s\", \"rate\": 2}", NULL),
               ".schedule.rate",
               "does not apply to schedule type \"interval\", only to \"poisson\" (known here: type, period, jitter)");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 2, \"period\": \"1s\"}", NULL),
               ".schedule.period",
               "does not apply to schedule type \"poisson\", only to \"interval\" and \"burst\" (known here: type, "
               "rate)");
        expect_among(make(TARGETS, ERROR, "{\"type\": \"interval\", \"perod\": \"1s\"}", NULL), ".schedule.perod",
                     "unknown key; did you mean \"period\"?");

        /* once */
        expect(make(TARGETS, ERROR, "{\"type\": \"once\"}", NULL), ".schedule",
               "a \"once\" schedule needs \"at\" (an RFC 3339 time such as \"2030-01-01T12:00:00Z\") or \"after\" (a "
               "duration such as \"30s\")");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01T00:00:00Z\", \"after\": \"1s\"}", NULL),
               ".schedule", "give \"at\" or \"after\", not both");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01T00:00:00\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2030-01-01T00:00:00\": a time zone "
               "is required: end with Z (UTC) or an offset such as +02:00");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-02-30T00:00:00Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2030-02-30T00:00:00Z\": no such date");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2100-02-29T00:00:00Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2100-02-29T00:00:00Z\": no such date");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2016-12-31T23:59:60Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2016-12-31T23:59:60Z\": a leap "
               "second (:60) cannot be scheduled");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"1969-12-31T23:59:59Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"1969-12-31T23:59:59Z\": times before "
               "1970 are not supported");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"1970-01-01T00:30:00+01:00\"}", NULL),
               ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"1970-01-01T00:30:00+01:00\": times "
               "before 1970 are not supported");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01 12:00\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2030-01-01 12:00\": the time must be "
               "HH:MM:SS");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01T12:00:00Zjunk\"}", NULL),
               ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2030-01-01T12:00:00Zjunk\": "
               "unexpected text after the time");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": 1893456000}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got 1893456000");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01T12:00:00.Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2030-01-01T12:00:00.Z\": a '.' must be "
               "followed by fraction digits");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01T24:00:00Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"2030-01-01T24:00:00Z\": no such time "
               "of day");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"30-01-01T12:00:00Z\"}", NULL), ".schedule.at",
               "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got \"30-01-01T12:00:00Z\": the date must be "
               "YYYY-MM-DD");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"after\": 30}", NULL), ".schedule.after",
               "expected a duration such as \"1s\", \"250ms\" or \"2min\", got 30");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"after\": \"soon\"}", NULL), ".schedule.after",
               "\"soon\" is not a duration: write a number and a unit (us, ms, s, min, h or d), e.g. \"1.5s\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"after\": \"400d\"}", NULL), ".schedule.after",
               "must be at most 366d, got \"400d\"");

        static const struct {
                const char *at;
                uint64_t usec;
        } times[] = {
                { "1970-01-01T00:00:00Z", 0 },
                { "2030-01-01T12:00:00Z", UINT64_C(1893499200) * 1000000 },
                { "2030-01-01t13:00:00.5+01:00", UINT64_C(1893499200) * 1000000 + 500000 },
                { "2030-01-01 07:00:00.1234567-05:00", UINT64_C(1893499200) * 1000000 + 123456 },
                { "2024-02-29T00:00:00z", UINT64_C(1709164800) * 1000000 },
                { "2000-03-01T00:00:00Z", UINT64_C(951868800) * 1000000 },
        };
        for (size_t i = 0; i < ELEMENTSOF(times); i++) {
                char sched[160];

                snprintf(sched, sizeof(sched), "{\"type\": \"once\", \"at\": \"%s\"}", times[i].at);
                p = parse_ok(make(TARGETS, ERROR, sched, NULL), times[i].at);
                tap_ok(p && p->schedule.has_at && p->schedule.at_usec == times[i].usec, "%s is %" PRIu64 " us",
                       times[i].at, times[i].usec);
                policy_free(p);
        }

        /* interval */
        expect(make(TARGETS, ERROR, "{\"type\": \"interval\"}", NULL), ".schedule.period",
               "required: the time between events, such as \"1s\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"interval\", \"period\": \"0\"}", NULL), ".schedule.period",
               "must be at least 100us, got \"0\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"interval\", \"period\": 1}", NULL), ".schedule.period",
               "expected a duration such as \"1s\", \"250ms\" or \"2min\", got 1");
        expect(make(TARGETS, ERROR, "{\"type\": \"interval\", \"period\": \"1s\", \"jitter\": \"1s\"}", NULL),
               ".schedule.jitter", "must be less than the period (1s), got 1s");
        expect(make(TARGETS, ERROR, "{\"type\": \"interval\", \"period\": \"1s\", \"jitter\": \"-1ms\"}", NULL),
               ".schedule.jitter",
               "\"-1ms\" is not a duration: write a number and a unit (us, ms, s, min, h or d), e.g. \"1.5s\"");
        p = parse_ok(make(TARGETS, ERROR, "{\"type\": \"interval\", \"period\": \"1.5s\", \"jitter\": \"100ms\"}", NULL),
                     "interval 1.5s, jitter 100ms");
        tap_ok(p && p->schedule.type == POLICY_SCHEDULE_INTERVAL && p->schedule.period_usec == 1500000 &&
               p->schedule.jitter_usec == 100000, "period 1500000 us, jitter 100000 us");
        policy_free(p);

        /* poisson */
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\"}", NULL), ".schedule.rate",
               "required: the mean number of events per second, such as 2.5");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": -1}", NULL), ".schedule.rate",
               "must be > 0, got -1");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 0}", NULL), ".schedule.rate",
               "must be > 0, got 0");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": \"2\"}", NULL), ".schedule.rate",
               "expected a number of events per second, such as 2.5, got \"2\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 1e-7}", NULL), ".schedule.rate",
               "must be at least 0.000001 per second (one event in 11.6 days), got 1e-7");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 20000}", NULL), ".schedule.rate",
               "must be at most 10000 per second, got 20000");
        expect(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 1e999}", NULL), ".schedule.rate",
               "must be a finite number of events per second, got 1e999");
        p = parse_ok(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 2.5}", NULL), "poisson 2.5/s");
        tap_ok(p && p->schedule.rate == 2.5 && p->schedule.mean_ns == 400000000, "rate 2.5: mean gap 400000000 ns");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, "{\"type\": \"poisson\", \"rate\": 3}", NULL), "poisson 3/s");
        tap_ok(p && p->schedule.mean_ns == 333333333, "rate 3: mean gap 333333333 ns (rounded)");
        policy_free(p);

        /* burst */
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"spacing\": \"1ms\"}", NULL), ".schedule.count",
               "required: the number of events in each burst");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 0, \"spacing\": \"1ms\"}", NULL),
               ".schedule.count", "must be between 1 and 10000, got 0");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 10001, \"spacing\": \"1ms\"}", NULL),
               ".schedule.count", "must be between 1 and 10000, got 10001");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 2, \"spacing\": \"fast\"}", NULL),
               ".schedule.spacing",
               "\"fast\" is not a duration: write a number and a unit (us, ms, s, min, h or d), e.g. \"1.5s\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": \"5\", \"spacing\": \"1ms\"}", NULL),
               ".schedule.count", "expected a positive integer, got \"5\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 5}", NULL), ".schedule.spacing",
               "required when count is above 1: the time between the events of a burst, such as \"10ms\"");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 5, \"spacing\": \"10ms\", \"period\": \"40ms\"}",
                    NULL),
               ".schedule.period", "must be longer than one burst ((count - 1) x spacing = 40ms), got 40ms");
        expect(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 1, \"period\": \"50us\"}", NULL),
               ".schedule.period", "must be at least 100us, got \"50us\"");
        p = parse_ok(make(TARGETS, ERROR, "{\"type\": \"burst\", \"count\": 1}", NULL), "a single burst of one");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR,
                          "{\"type\": \"burst\", \"count\": 5, \"spacing\": \"10ms\", \"period\": \"41ms\"}", NULL),
                     "bursts of 5 every 41ms");
        tap_ok(p && p->schedule.count == 5 && p->schedule.spacing_usec == 10000 && p->schedule.period_usec == 41000,
               "count 5, spacing 10000 us, period 41000 us");
        policy_free(p);
}

static void test_limits_and_seed(void) {
        Policy *p;

        expect(make(TARGETS, ERROR, SCHEDULE, "\"duration\": \"0\""), ".duration", "must be > 0, got \"0\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"duration\": \"367d\""), ".duration",
               "must be at most 366d, got \"367d\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"start_delay\": \"1x\""), ".start_delay",
               "\"1x\" is not a duration: write a number and a unit (us, ms, s, min, h or d), e.g. \"1.5s\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"max_injections\": 0"), ".max_injections",
               "must be between 1 and 9007199254740992, got 0");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"max_injections\": \"5\""), ".max_injections",
               "expected a positive integer, got \"5\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"start_delay\": \"10s\", \"duration\": \"10s\""), ".start_delay",
               "10s is not before the end of \"duration\" (10s): nothing would ever run");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"after\": \"8s\"}", "\"start_delay\": \"2s\", \"duration\": "
                    "\"10s\""),
               ".duration", "ends at 10s, before the only event at 10s (start_delay + after)");
        expect(make(TARGETS, ERROR, "{\"type\": \"once\", \"at\": \"2030-01-01T00:00:00Z\"}", "\"start_delay\": \"1s\""),
               ".start_delay", "cannot be combined with \"at\", which already is an absolute time");

        expect(make(TARGETS, ERROR, SCHEDULE, "\"seed\": -5"), ".seed",
               "expected an unsigned 64-bit integer: a number up to 2^53, or a decimal or 0x hexadecimal string, "
               "got -5");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"seed\": 1.5"), ".seed",
               "expected an unsigned 64-bit integer: a number up to 2^53, or a decimal or 0x hexadecimal string, "
               "got 1.5");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"seed\": \"0x\""), ".seed",
               "expected an unsigned 64-bit integer: a number up to 2^53, or a decimal or 0x hexadecimal string, "
               "got \"0x\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"seed\": \"18446744073709551616\""), ".seed",
               "expected an unsigned 64-bit integer: a number up to 2^53, or a decimal or 0x hexadecimal string, "
               "got \"18446744073709551616\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"seed\": 9007199254740993"), ".seed",
               "9007199254740993 is above 2^53, where many JSON tools round numbers: write it as a string, "
               "\"9007199254740993\" or \"0x20000000000001\"");

        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, "\"seed\": 9007199254740992"), "seed 2^53 as a number");
        tap_ok(p && p->has_seed && p->seed == UINT64_C(9007199254740992), "seed 2^53 kept exactly");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, "\"seed\": \"18446744073709551615\""), "seed 2^64-1 as a string");
        tap_ok(p && p->has_seed && p->seed == UINT64_MAX, "seed 2^64-1 kept exactly");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, "\"seed\": \"0x5eed\", \"start_delay\": \"2s\", \"duration\": "
                          "\"1h\", \"max_injections\": 100, \"description\": \"d\""),
                     "seed in hex, start delay, duration, max_injections");
        tap_ok(p && p->seed == 0x5eed && p->start_delay_usec == 2000000 && p->duration_usec == UINT64_C(3600000000) &&
               p->max_injections == 100 && streq(p->description, "d") && policy_has_end(p),
               "every top-level value kept");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, "\"seed\": 0"), "seed 0");
        tap_ok(p && p->has_seed && p->seed == 0 && !policy_has_end(p), "seed 0 is a seed; an interval has no end");
        policy_free(p);
}

static void test_many_errors(void) {
        char text[8192];
        size_t len;
        Policy *p = NULL;
        int r;

        static const char many[] = "{\n"
                                   "  \"name\": \"bad name\",\n"
                                   "  \"targets\": {\n"
                                   "    \"names\": [\"vm-1\"],\n"
                                   "    \"vcpus\": \"5-3\"\n"
                                   "  },\n"
                                   "  \"error\": {\"mix\": [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": \"uer\"},\n"
                                   "                    {\"syndrome\": \"ce\", \"weight\": \"x\"}]},\n"
                                   "  \"schedule\": {\"type\": \"poisson\"},\n"
                                   "  \"seed\": -1\n"
                                   "}\n";

        r = policy_parse(many, sizeof(many) - 1, &p, &diag);
        {
                static const char *const want[] = {
                        "2:3: .name: \"bad name\" is not a valid policy name: use 1 to 64 characters from A-Z a-z 0-9 "
                        "- _ ., starting with a letter or digit",
                        "5:5: .targets.vcpus: range 5-3 is empty",
                        "8:40: .error.mix[2].weight: expected a positive integer, got \"x\"",
                        "9:3: .schedule.rate: required: the mean number of events per second, such as 2.5",
                        "10:3: .seed: expected an unsigned 64-bit integer: a number up to 2^53, or a decimal or 0x "
                        "hexadecimal string, got -1",
                };
                bool ok = r == -EINVAL && !p && diag.n_errors == ELEMENTSOF(want) && diag.n_dropped == 0;

                for (size_t i = 0; ok && i < ELEMENTSOF(want); i++) {
                        char line[512];

                        policy_error_format(&diag.errors[i], line, sizeof(line));
                        ok = streq(line, want[i]);
                }
                if (!tap_ok(ok, "five problems are all reported, in file order, each with line, column and path"))
                        dump_diag();
        }

        /* A missing key is placed at its object; an unknown key at itself. */
        expect_at("{\"name\": \"t\",\n \"targets\": {\"names\": [\"vm-1\"]},\n \"error\": \"ce\",\n"
                  " \"schedule\": {\n   \"type\": \"burst\", \"spacing\": \"1ms\"}}",
                  4, 2, ".schedule.count", "required: the number of events in each burst");

        len = (size_t) snprintf(text, sizeof(text), "{");
        for (int i = 0; i < 70; i++)
                len += (size_t) snprintf(text + len, sizeof(text) - len, "\"unknown%02d\": 1, ", i);
        snprintf(text + len, sizeof(text) - len, "\"name\": \"t\", \"targets\": %s, \"error\": %s, \"schedule\": %s}",
                 TARGETS, ERROR, SCHEDULE);
        r = policy_parse(text, strlen(text), &p, &diag);
        tap_ok(r == -EINVAL && diag.n_errors == POLICY_ERRORS_MAX && diag.n_dropped == 70 - POLICY_ERRORS_MAX,
               "70 errors: %u kept, %u counted as dropped", POLICY_ERRORS_MAX, 70 - POLICY_ERRORS_MAX);

        tap_ok(policy_parse(NULL, 0, &p, NULL) == -EINVAL && policy_parse("{}", 2, NULL, NULL) == -EINVAL,
               "NULL text or no place for the result: -EINVAL; a NULL diag is allowed");
}

static void test_format(void) {
        PolicyError e = { .line = 3, .column = 5, .path = ".schedule.rate", .message = "must be > 0, got -1" };
        char buf[256], d[32];

        policy_error_format(&e, buf, sizeof(buf));
        tap_ok(streq(buf, "3:5: .schedule.rate: must be > 0, got -1"), "formatted: %s", buf);
        e.line = e.column = 0;
        policy_error_format(&e, buf, sizeof(buf));
        tap_ok(streq(buf, ".schedule.rate: must be > 0, got -1"), "formatted without a line: %s", buf);
        e.path[0] = '\0';
        e.line = 2;
        e.column = 1;
        policy_error_format(&e, buf, sizeof(buf));
        tap_ok(streq(buf, "2:1: must be > 0, got -1"), "formatted without a path: %s", buf);

        static const struct {
                uint64_t usec;
                const char *text;
        } durations[] = {
                { 0, "0" },
                { 1, "1us" },
                { 1500, "1500us" },
                { 250000, "250ms" },
                { 1500000, "1500ms" },
                { 90000000, "90s" },
                { 120000000, "2min" },
                { UINT64_C(7200000000), "2h" },
                { UINT64_C(366) * 86400 * 1000000, "366d" },
        };
        bool ok = true;

        for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                policy_format_duration(durations[i].usec, d, sizeof(d));
                ok = ok && streq(d, durations[i].text);
        }
        tap_ok(ok, "durations are written in the largest exact unit: 0, 1us, 250ms, 1500ms, 90s, 2min, 2h, 366d");
}

static void test_match(void) {
        static const PolicyVmLabel test_env[] = { { "env", "test" }, { "zone", "b" } };
        static const PolicyVmLabel prod_env[] = { { "env", "prod" } };
        static const uint32_t four[] = { 3, 0, 2, 1 };
        static const uint32_t two[] = { 0, 1 };
        PolicyTarget *t = NULL;
        size_t n = 0;
        Policy *p;
        int r;

        p = parse_ok(make("{\"names\": [\"db-1\"], \"globs\": [\"web-*\"], \"labels\": {\"env\": \"test\"}, \"vcpus\": "
                          "[\"1-2\", 9]}",
                          ERROR, SCHEDULE, NULL),
                     "names, globs and labels together");
        tap_ok(p && policy_match_vm(p, "db-1", test_env, 2) && policy_match_vm(p, "web-7", test_env, 1) &&
               !policy_match_vm(p, "web-7", prod_env, 1) && !policy_match_vm(p, "db-2", test_env, 2) &&
               !policy_match_vm(p, "db-1", NULL, 0) && !policy_match_vm(p, "web", test_env, 2),
               "a VM matches by name or glob, and must carry every label");
        tap_ok(p && !policy_match_vcpu(p, 0) && policy_match_vcpu(p, 1) && policy_match_vcpu(p, 2) &&
               !policy_match_vcpu(p, 3) && policy_match_vcpu(p, 9) && !policy_match_vcpu(p, 10) &&
               !policy_match_vcpu(p, 70000),
               "vcpus [1-2, 9] admit 1, 2 and 9 only");
        policy_free(p);

        p = parse_ok(make("{\"labels\": {\"env\": \"test\"}}", ERROR, SCHEDULE, NULL), "labels alone");
        tap_ok(p && policy_match_vm(p, "anything", test_env, 2) && !policy_match_vm(p, "anything", prod_env, 1) &&
               policy_match_vcpu(p, 65535),
               "labels alone select by label; vcpus default to all");
        {
                const PolicyVm vms[] = {
                        { .name = "vm-b", .labels = test_env, .n_labels = 2, .vcpus = four, .n_vcpus = 4 },
                        { .name = "VM-c", .labels = test_env, .n_labels = 1, .vcpus = two, .n_vcpus = 2 },
                        { .name = "vm-a", .labels = prod_env, .n_labels = 1, .vcpus = two, .n_vcpus = 2 },
                        { .name = "vm-a2", .labels = test_env, .n_labels = 1, .vcpus = two, .n_vcpus = 1 },
                        { .name = "vm-b", .labels = test_env, .n_labels = 1, .vcpus = two, .n_vcpus = 2 },
                };
                static const struct {
                        const char *vm;
                        uint32_t vcpu;
                } want[] = { { "VM-c", 0 }, { "VM-c", 1 }, { "vm-a2", 0 }, { "vm-b", 0 },
                             { "vm-b", 1 }, { "vm-b", 2 }, { "vm-b", 3 } };
                bool ok;

                r = policy_targets_build(p, vms, ELEMENTSOF(vms), &t, &n);
                ok = r == 0 && n == ELEMENTSOF(want);
                for (size_t i = 0; ok && i < n; i++)
                        ok = streq(t[i].vm, want[i].vm) && t[i].vcpu == want[i].vcpu;
                tap_ok(ok, "targets: the matching (VM, vcpu) pairs, sorted by name bytes then vcpu, duplicates once");
                free(t);
                t = NULL;

                r = policy_targets_build(p, vms + 2, 1, &t, &n);
                tap_ok(r == 0 && n == 0 && !t, "no match: an empty list");
                tap_ok(policy_targets_build(p, (PolicyVm[]) { { .name = NULL } }, 1, &t, &n) == -EINVAL,
                       "a VM without a name: -EINVAL");
        }
        policy_free(p);

        tap_ok(policy_target_compare(&(PolicyTarget) { "VM-b", 9 }, &(PolicyTarget) { "vm-a", 0 }) < 0 &&
               policy_target_compare(&(PolicyTarget) { "vm-a", 2 }, &(PolicyTarget) { "vm-a", 10 }) < 0 &&
               policy_target_compare(&(PolicyTarget) { "vm-a", 2 }, &(PolicyTarget) { "vm-a", 2 }) == 0 &&
               policy_target_compare(&(PolicyTarget) { "vm-a", 0 }, &(PolicyTarget) { "vm-", 5 }) > 0,
               "canonical order: VM name by bytes, then vcpu as a number");
}

static void test_stop_when(void) {
        PolicyStopState st = {};
        PolicyReaction rc;
        char reason[256];
        Policy *p;

        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"vms\": 2, \"within\": \"10min\"}"),
                     "stop_when with vms and within, default fates");
        tap_ok(p && p->stop_when.enabled && p->stop_when.vms == 2 && p->stop_when.within_usec == 600000000 &&
                       p->stop_when.fates == POLICY_STOP_FATES_DEFAULT,
               "stop_when: 2 VMs within 10 min, counting reset, shutdown, crash and vmm-exited");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE,
                          "\"stop_when\": {\"fates\": [\"reset\", \"detached\"], \"fraction\": 0.5, \"not_taken_for\": \"30s\"}"),
                     "stop_when with fates, fraction and not_taken_for");
        tap_ok(p && p->stop_when.fates == ((1u << FATE_RESET) | (1u << FATE_DETACHED)) && p->stop_when.fraction == 0.5 &&
                       p->stop_when.not_taken_usec == 30000000 && policy_stop_window_usec(&p->stop_when) == 30000000,
               "the fates named, half the targets, and a 30 s window for not_taken_for");
        policy_free(p);
        p = parse_ok(make(TARGETS, ERROR, SCHEDULE, NULL), "no stop_when");
        tap_ok(p && !p->stop_when.enabled && policy_stop_window_usec(&p->stop_when) == 0, "no stop_when: nothing to judge");
        policy_free(p);

        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {}"), ".stop_when",
               "says nothing to stop on: give \"vms\", \"fraction\" or \"not_taken_for\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"fates\": [\"reset\"]}"), ".stop_when",
               "\"fates\" and \"within\" count VMs: give \"vms\" or \"fraction\" too");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"vms\": 1, \"fraction\": 0.5}"), ".stop_when.fraction",
               "give \"vms\" or \"fraction\", not both");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"vms\": 1, \"fates\": [\"rebooted\"]}"),
               ".stop_when.fates[0]",
               "unknown fate \"rebooted\" (known: reset, shutdown, crash, system-event, triple-fault, internal-error, "
               "vmm-exited, detached)");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"vms\": 1, \"fates\": [\"running\"]}"),
               ".stop_when.fates[0]", "\"running\" is what a campaign expects, not a reason to stop it");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"fraction\": 1.5}"), ".stop_when.fraction",
               "must be > 0 and at most 1, got 1.5");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"not_taken_for\": \"11min\"}"), ".stop_when.not_taken_for",
               "must be at most 10min (the longest a reaction is watched), got \"11min\"");
        expect(make(TARGETS, ERROR, SCHEDULE, "\"stop_when\": {\"vms\": 1, \"resets\": 2}"), ".stop_when.resets",
               "unknown key (known here: fates, vms, fraction, within, not_taken_for)");

        /* Counting: distinct VMs, in the window, only the fates named. */
        PolicyStopWhen w = { .enabled = true, .fates = POLICY_STOP_FATES_DEFAULT, .vms = 2, .within_usec = 10000000 };
        rc = (PolicyReaction) { .vm = "a", .fate = FATE_RESET, .taken_after_usec = 100, .window_usec = 10000000 };
        tap_ok(policy_stop_feed(&w, &st, &rc, 1000000, 4, reason, sizeof(reason)) == 0, "one VM reset: not yet");
        tap_ok(policy_stop_feed(&w, &st, &rc, 2000000, 4, reason, sizeof(reason)) == 0, "the same VM again: still one VM");
        rc.vm = "b";
        rc.fate = FATE_RUNNING;
        tap_ok(policy_stop_feed(&w, &st, &rc, 3000000, 4, reason, sizeof(reason)) == 0, "a VM that kept running does not count");
        rc.fate = FATE_VMM_EXITED;
        tap_ok(policy_stop_feed(&w, &st, &rc, 20000000, 4, reason, sizeof(reason)) == 0,
               "a second VM, but 18 s after the first: outside the 10 s window");
        rc.vm = "c";
        rc.fate = FATE_RESET;
        tap_ok(policy_stop_feed(&w, &st, &rc, 21000000, 4, reason, sizeof(reason)) == 1,
               "a third VM within 10 s of the second: stop");
        tap_ok(streq(reason, "2 VMs had vmm-exited, reset within 10s, the last c (reset); stop_when vms 2"),
               "the reason names the count, the fates, the window and the last VM: %s", reason);
        policy_stop_state_clear(&st);
        tap_ok(st.n_hits == 0 && !st.hits, "clear frees the hits");

        w = (PolicyStopWhen) { .enabled = true, .fates = 1u << FATE_RESET, .fraction = 0.5 };
        tap_ok(policy_stop_threshold(&w, 5) == 3 && policy_stop_threshold(&w, 4) == 2 && policy_stop_threshold(&w, 0) == 1,
               "fraction 0.5 of 5, 4 and 0 targeted VMs: 3, 2 and at least 1");
        rc = (PolicyReaction) { .vm = "a", .fate = FATE_SHUTDOWN, .taken_after_usec = REACTION_USEC_NONE };
        tap_ok(policy_stop_feed(&w, &st, &rc, 1, 1, reason, sizeof(reason)) == 0, "a fate stop_when does not name does not count");
        policy_stop_state_clear(&st);

        w = (PolicyStopWhen) { .enabled = true, .not_taken_usec = 30000000 };
        rc = (PolicyReaction) { .vm = "m", .fate = FATE_RUNNING, .taken_after_usec = REACTION_USEC_NONE,
                                .window_usec = 30000000, .taken_observable = false };
        tap_ok(policy_stop_feed(&w, &st, &rc, 1, 1, reason, sizeof(reason)) == 0,
               "not taken, but the agent cannot see taking: no stop");
        rc.taken_observable = true;
        rc.window_usec = 10000000;
        tap_ok(policy_stop_feed(&w, &st, &rc, 1, 1, reason, sizeof(reason)) == 0,
               "not taken within a 10 s window says nothing about 30 s");
        rc.window_usec = 30000000;
        tap_ok(policy_stop_feed(&w, &st, &rc, 1, 1, reason, sizeof(reason)) == 1 &&
                       streq(reason, "m left an SError pending for longer than 30s (stop_when.not_taken_for)"),
               "not taken in 30 s, where it can be seen: stop (%s)", reason);
        rc.taken_after_usec = 29000000;
        tap_ok(policy_stop_feed(&w, &st, &rc, 1, 1, reason, sizeof(reason)) == 0, "taken after 29 s: no stop");
        policy_stop_state_clear(&st);
}

int main(void) {
        test_text();
        test_top();
        test_targets();
        test_error();
        test_plan();
        test_limits_and_seed();
        test_many_errors();
        test_format();
        test_match();
        test_stop_when();
        return tap_done();
}
