/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy parsing and validation: JSON text to a Policy, or every problem found, each naming its JSON path. */

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach-proto.h"
#include "macro.h"
#include "parse-util.h"
#include "policy-internal.h"

/* The target limits are the attach protocol's: a policy asking for more than
 * a VM can carry could never match. */
_Static_assert(POLICY_VM_NAME_MAX == ATTACH_NAME_MAX, "VM name limits differ");
_Static_assert(POLICY_LABELS_MAX == ATTACH_LABELS_MAX, "label count limits differ");
_Static_assert(POLICY_LABEL_KEY_MAX == ATTACH_LABEL_KEY_MAX, "label key limits differ");
_Static_assert(POLICY_LABEL_VALUE_MAX == ATTACH_LABEL_VALUE_MAX, "label value limits differ");
_Static_assert(POLICY_VCPU_INDEX_MAX == ATTACH_VCPU_INDEX_MAX, "vcpu index limits differ");

#define VM_NAME_RULE \
        "VM names are 1 to 64 characters from A-Z a-z 0-9 - _ . : + @, starting with a letter or digit"
#define DURATION_EXAMPLE "a duration such as \"1s\", \"250ms\" or \"2min\""
#define VCPUS_EXPECTED "\"all\", a vcpu index, a range such as \"0-3\", or a list of those"

static const char *const top_keys[] = {
        "name", "description", "targets", "error", "schedule", "start_delay", "duration", "max_injections", "seed",
        "stop_when",
};
static const char *const target_keys[] = { "names", "globs", "labels", "vcpus", "pick" };
static const char *const error_keys[] = { "syndrome", "mix", "on_pending", "allow_ids" };
static const char *const syndrome_keys[] = { "aet", "iesb", "ea", "dfsc", "iss", "impdef" };
static const char *const mix_keys[] = { "syndrome", "weight" };

static const char *const schedule_type_table[_POLICY_SCHEDULE_MAX] = {
        [POLICY_SCHEDULE_ONCE] = "once",
        [POLICY_SCHEDULE_INTERVAL] = "interval",
        [POLICY_SCHEDULE_POISSON] = "poisson",
        [POLICY_SCHEDULE_BURST] = "burst",
};

static const char *const pick_table[_POLICY_PICK_MAX] = {
        [POLICY_PICK_ONE] = "one",
        [POLICY_PICK_ALL] = "all",
};

/* The keys each schedule type takes, "type" included. */
static const struct {
        const char *keys[4];
        size_t n;
} schedule_keys[_POLICY_SCHEDULE_MAX] = {
        [POLICY_SCHEDULE_ONCE] = { { "type", "at", "after" }, 3 },
        [POLICY_SCHEDULE_INTERVAL] = { { "type", "period", "jitter" }, 3 },
        [POLICY_SCHEDULE_POISSON] = { { "type", "rate" }, 2 },
        [POLICY_SCHEDULE_BURST] = { { "type", "count", "spacing", "period" }, 4 },
};

typedef struct Ctx {
        PolicyDiag *diag;
        Policy *p;
        bool oom;
} Ctx;

static inline void json_object_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}

static inline void json_tokener_freep(struct json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

_printf_(3, 4) static void err(Ctx *c, const char *path, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        policy_diag_addv(c->diag, 0, 0, policy_path_show(path), format, ap);
        va_end(ap);
}

static char *dup_or_oom(Ctx *c, const char *s) {
        char *d = strdup(s);

        if (!d)
                c->oom = true;
        return d;
}

/* A value quoted back in a message: JSON text, cut at POLICY_QUOTE_MAX bytes. */
typedef struct Quoted {
        char s[POLICY_QUOTE_MAX + 16];
} Quoted;

static const char *describe(struct json_object *v, Quoted *q) {
        const char *text;
        size_t len, cut;

        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        default:
                break;
        }

        text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return "a value";
        len = strlen(text);
        cut = policy_utf8_cut(text, len, POLICY_QUOTE_MAX);
        if (cut < len)
                (void) snprintf(q->s, sizeof(q->s), "%.*s...%s", (int) cut, text,
                                json_object_is_type(v, json_type_string) ? "\"" : "");
        else
                (void) snprintf(q->s, sizeof(q->s), "%s", text);
        return q->s;
}
#define DESCRIBE(v) describe((v), &(Quoted) {})

/* Edit distance, for "did you mean"; only short keys are compared. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diagonal = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diagonal + (a[i - 1] != b[j - 1]);

                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diagonal = up;
                }
        }
        return row[lb];
}

static bool in_list(const char *key, const char *const *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(key, list[i]))
                        return true;
        return false;
}

static void join_keys(const char *const *list, size_t n, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && len < size; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", i ? ", " : "", list[i]);
}

/* For a key the schedule type does not take: the types that do ("\"interval\"
 * and \"burst\""), or false. */
static bool schedule_types_with_key(const char *key, char *buf, size_t size) {
        size_t len = 0;
        unsigned n = 0;

        buf[0] = '\0';
        for (unsigned t = 0; t < _POLICY_SCHEDULE_MAX; t++)
                if (in_list(key, schedule_keys[t].keys, schedule_keys[t].n) && len < size)
                        len += (size_t) snprintf(buf + len, size - len, "%s\"%s\"", n++ ? " and " : "",
                                                 schedule_type_table[t]);
        return n > 0;
}

/* For an unknown key at the top: the object it belongs in, if any. */
static const char *section_with_key(const char *key) {
        static const char *const schedule_all[] = { "type", "at", "after", "period", "jitter", "rate", "count", "spacing" };

        if (in_list(key, target_keys, ELEMENTSOF(target_keys)))
                return "targets";
        if (in_list(key, error_keys, ELEMENTSOF(error_keys)) || in_list(key, syndrome_keys, ELEMENTSOF(syndrome_keys)))
                return "error";
        if (in_list(key, schedule_all, ELEMENTSOF(schedule_all)))
                return "schedule";
        return NULL;
}

/* Report every key of obj that is not in known, with the likeliest fix.
 * schedule_type is set for a schedule object of that type. */
static void check_keys(Ctx *c, struct json_object *obj, const char *path, const char *const *known, size_t n_known,
                       const char *schedule_type) {
        json_object_object_foreach(obj, key, value) {
                char child[POLICY_PATH_MAX], known_text[160], owners[64];
                const char *suggestion = NULL, *section;
                size_t best = SIZE_MAX;

                (void) value;
                if (in_list(key, known, n_known))
                        continue;

                (void) policy_path_key(child, path, key, strlen(key));
                join_keys(known, n_known, known_text, sizeof(known_text));

                if (schedule_type && schedule_types_with_key(key, owners, sizeof(owners))) {
                        err(c, child, "does not apply to schedule type \"%s\", only to %s (known here: %s)",
                            schedule_type, owners, known_text);
                        continue;
                }
                section = isempty(path) ? section_with_key(key) : NULL;
                if (section) {
                        err(c, child, "unknown key here: \"%s\" belongs inside \"%s\"", key, section);
                        continue;
                }
                /* A typo is at most two edits away, and less than half the word. */
                for (size_t i = 0; i < n_known; i++) {
                        size_t d = edit_distance(key, known[i]);

                        if (d <= 2 && 2 * d < strlen(known[i]) && d < best) {
                                best = d;
                                suggestion = known[i];
                        }
                }
                if (suggestion)
                        err(c, child, "unknown key; did you mean \"%s\"?", suggestion);
                else
                        err(c, child, "unknown key (known here: %s)", known_text);
        }
}

static struct json_object *member(struct json_object *obj, const char *key, bool *ret_present) {
        struct json_object *v = NULL;

        *ret_present = json_object_object_get_ex(obj, key, &v);
        return v;
}

static bool get_string(Ctx *c, struct json_object *v, const char *path, const char *expected, const char **ret) {
        if (!json_object_is_type(v, json_type_string)) {
                err(c, path, "expected %s, got %s", expected, DESCRIBE(v));
                return false;
        }
        *ret = json_object_get_string(v);
        return true;
}

static bool get_bool(Ctx *c, struct json_object *v, const char *path, bool *ret) {
        if (!json_object_is_type(v, json_type_boolean)) {
                err(c, path, "expected true or false, got %s", DESCRIBE(v));
                return false;
        }
        *ret = json_object_get_boolean(v);
        return true;
}

/* A JSON integer (1.0 is not one) in [min, max]. */
static bool get_uint(Ctx *c, struct json_object *v, const char *path, const char *expected, uint64_t min,
                     uint64_t max, uint64_t *ret) {
        uint64_t u;

        if (!json_object_is_type(v, json_type_int)) {
                err(c, path, "expected %s, got %s", expected, DESCRIBE(v));
                return false;
        }
        /* json-c holds an int as int64 or uint64; get_uint64() turns negatives into 0. */
        u = json_object_get_int64(v) < 0 ? 0 : json_object_get_uint64(v);
        if (json_object_get_int64(v) < 0 || u < min || u > max) {
                err(c, path, "must be between %" PRIu64 " and %" PRIu64 ", got %s", min, max, DESCRIBE(v));
                return false;
        }
        *ret = u;
        return true;
}

static bool get_duration(Ctx *c, struct json_object *v, const char *path, uint64_t min, uint64_t *ret) {
        char limit[32];
        const char *s;
        uint64_t usec;
        int r;

        if (!get_string(c, v, path, DURATION_EXAMPLE, &s))
                return false;
        r = parse_duration_usec(s, &usec);
        if (r == -EINVAL) {
                err(c, path, "%s is not a duration: write a number and a unit (us, ms, s, min, h or d), e.g. \"1.5s\"",
                    DESCRIBE(v));
                return false;
        }
        if (r < 0 || usec > POLICY_DURATION_MAX_USEC) {
                policy_format_duration(POLICY_DURATION_MAX_USEC, limit, sizeof(limit));
                err(c, path, "must be at most %s, got %s", limit, DESCRIBE(v));
                return false;
        }
        if (usec < min) {
                policy_format_duration(min, limit, sizeof(limit));
                if (min == 1)
                        err(c, path, "must be > 0, got %s", DESCRIBE(v));
                else
                        err(c, path, "must be at least %s, got %s", limit, DESCRIBE(v));
                return false;
        }
        *ret = usec;
        return true;
}

static bool policy_name_char_ok(char c, bool first) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                return true;
        return !first && (c == '-' || c == '_' || c == '.');
}

static void parse_name(Ctx *c, struct json_object *root) {
        struct json_object *v;
        const char *s;
        bool present;
        size_t len;

        v = member(root, "name", &present);
        if (!present) {
                err(c, ".name", "required: a name for the policy, such as \"ce-storm\"");
                return;
        }
        if (!get_string(c, v, ".name", "a policy name such as \"ce-storm\"", &s))
                return;
        len = strlen(s);
        for (size_t i = 0; i < len; i++)
                if (!policy_name_char_ok(s[i], i == 0)) {
                        len = 0;
                        break;
                }
        if (len == 0 || len > POLICY_NAME_MAX) {
                err(c, ".name", "%s is not a valid policy name: use 1 to %u characters from A-Z a-z 0-9 - _ ., "
                    "starting with a letter or digit", DESCRIBE(v), POLICY_NAME_MAX);
                return;
        }
        c->p->name = dup_or_oom(c, s);
}

static void parse_description(Ctx *c, struct json_object *root) {
        struct json_object *v;
        const char *s;
        bool present;

        v = member(root, "description", &present);
        if (!present || !get_string(c, v, ".description", "a string", &s))
                return;
        if (strlen(s) > POLICY_DESCRIPTION_MAX) {
                err(c, ".description", "is %zu bytes long, at most %u allowed", strlen(s), POLICY_DESCRIPTION_MAX);
                return;
        }
        c->p->description = dup_or_oom(c, s);
}

/* A non-empty JSON array of at most max entries, or an error. */
static bool get_list(Ctx *c, struct json_object *v, const char *path, const char *expected, size_t max,
                     const char *empty_message, size_t *ret_n) {
        size_t n;

        if (!json_object_is_type(v, json_type_array)) {
                err(c, path, "expected %s, got %s", expected, DESCRIBE(v));
                return false;
        }
        n = json_object_array_length(v);
        if (n == 0) {
                err(c, path, "%s", empty_message);
                return false;
        }
        if (n > max) {
                err(c, path, "has %zu entries, at most %zu allowed", n, max);
                return false;
        }
        *ret_n = n;
        return true;
}

static bool vm_name_char_ok(char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
               ch == '_' || ch == '.' || ch == ':' || ch == '+' || ch == '@';
}

static bool alnum(char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Whether fnmatch(glob, name, 0) can be true for some VM name; if not, why.
 * Literal characters must be ones a VM name may hold, and the first one, when
 * the glob starts with a literal, a letter or digit. */
static bool glob_can_match(const char *glob, char *why, size_t size) {
        for (size_t i = 0; glob[i]; i++) {
                char ch = glob[i];

                if (ch == '*' || ch == '?')
                        continue;
                if (ch == '[') {
                        size_t j = i + 1;

                        if (glob[j] == '!' || glob[j] == '^')
                                j++;
                        if (glob[j] == ']')
                                j++;
                        while (glob[j] && glob[j] != ']')
                                j++;
                        if (!glob[j]) {
                                /* fnmatch() then takes the '[' literally, and
                                 * no VM name contains one. */
                                (void) snprintf(why, size, "its '[' at offset %zu is never closed", i);
                                return false;
                        }
                        i = j;
                        continue;
                }
                if (ch == '\\' && glob[i + 1])
                        ch = glob[++i];
                if (!vm_name_char_ok(ch)) {
                        if ((unsigned char) ch >= 0x20 && (unsigned char) ch < 0x7f)
                                (void) snprintf(why, size, "'%c' cannot appear in a VM name", ch);
                        else
                                (void) snprintf(why, size, "byte 0x%02x cannot appear in a VM name",
                                                (unsigned) (unsigned char) ch);
                        return false;
                }
                if (i == 0 && !alnum(ch)) {
                        (void) snprintf(why, size, "VM names start with a letter or digit, not '%c'", ch);
                        return false;
                }
        }
        return true;
}

static void parse_names(Ctx *c, struct json_object *v) {
        size_t n;

        if (!get_list(c, v, ".targets.names", "a list of VM names such as [\"vm-1\", \"vm-2\"]", POLICY_NAMES_MAX,
                      "an empty list can never match: name at least one VM, or remove the key", &n))
                return;
        c->p->names = calloc(n, sizeof(char *));
        if (!c->p->names) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct json_object *item = json_object_array_get_idx(v, i);
                char path[POLICY_PATH_MAX];
                const char *s;

                (void) policy_path_index(path, ".targets.names", i);
                if (!get_string(c, item, path, "a VM name", &s))
                        continue;
                if (strpbrk(s, "*?[")) {
                        err(c, path, "%s is a glob, not a name: put it in \"globs\"", DESCRIBE(item));
                        continue;
                }
                if (!attach_vm_name_is_valid(s)) {
                        err(c, path, "%s can never match: " VM_NAME_RULE, DESCRIBE(item));
                        continue;
                }
                c->p->names[c->p->n_names] = dup_or_oom(c, s);
                if (c->p->names[c->p->n_names])
                        c->p->n_names++;
        }
}

static void parse_globs(Ctx *c, struct json_object *v) {
        size_t n;

        if (!get_list(c, v, ".targets.globs", "a list of glob patterns such as [\"web-*\"]", POLICY_GLOBS_MAX,
                      "an empty list can never match: give at least one pattern, or remove the key", &n))
                return;
        c->p->globs = calloc(n, sizeof(char *));
        if (!c->p->globs) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct json_object *item = json_object_array_get_idx(v, i);
                char path[POLICY_PATH_MAX], why[96];
                const char *s;

                (void) policy_path_index(path, ".targets.globs", i);
                if (!get_string(c, item, path, "a glob pattern such as \"web-*\"", &s))
                        continue;
                if (isempty(s)) {
                        err(c, path, "an empty pattern can never match");
                        continue;
                }
                if (strlen(s) > POLICY_GLOB_MAX) {
                        err(c, path, "is %zu bytes long, at most %u allowed", strlen(s), POLICY_GLOB_MAX);
                        continue;
                }
                if (!glob_can_match(s, why, sizeof(why))) {
                        err(c, path, "%s can never match: %s", DESCRIBE(item), why);
                        continue;
                }
                c->p->globs[c->p->n_globs] = dup_or_oom(c, s);
                if (c->p->globs[c->p->n_globs])
                        c->p->n_globs++;
        }
}

static int label_compare(const void *a, const void *b) {
        return strcmp(((const PolicyLabel *) a)->key, ((const PolicyLabel *) b)->key);
}

static void parse_labels(Ctx *c, struct json_object *v) {
        size_t n;

        if (!json_object_is_type(v, json_type_object)) {
                err(c, ".targets.labels", "expected an object of label values such as {\"env\": \"test\"}, got %s",
                    DESCRIBE(v));
                return;
        }
        n = (size_t) json_object_object_length(v);
        if (n == 0) {
                err(c, ".targets.labels", "is empty: name at least one label, or remove the key");
                return;
        }
        if (n > POLICY_LABELS_MAX) {
                err(c, ".targets.labels", "can never match: it asks for %zu labels, and a VM carries at most %u", n,
                    POLICY_LABELS_MAX);
                return;
        }
        c->p->labels = calloc(n, sizeof(PolicyLabel));
        if (!c->p->labels) {
                c->oom = true;
                return;
        }
        json_object_object_foreach(v, key, value) {
                char path[POLICY_PATH_MAX];
                PolicyLabel *l;
                const char *s;

                (void) policy_path_key(path, ".targets.labels", key, strlen(key));
                if (!attach_label_key_is_valid(key)) {
                        err(c, path, "label key can never match: keys are 1 to 63 characters from A-Z a-z 0-9 "
                            "- _ . /, starting with a letter or digit");
                        continue;
                }
                if (!get_string(c, value, path, "a label value (a string)", &s))
                        continue;
                if (!attach_label_value_is_valid(s)) {
                        err(c, path, "%s can never match: label values are 0 to 127 printable ASCII characters",
                            DESCRIBE(value));
                        continue;
                }
                l = &c->p->labels[c->p->n_labels];
                l->key = dup_or_oom(c, key);
                l->value = dup_or_oom(c, s);
                c->p->n_labels++;
        }
        if (!c->oom)
                qsort(c->p->labels, c->p->n_labels, sizeof(PolicyLabel), label_compare);
}

/* "N" or "A-B", decimal. 0, -EINVAL (not that form) or -ERANGE (above the
 * largest index; *bad and *bad_len then give the offending number). */
static int parse_vcpu_text(const char *s, PolicyVcpuRange *ret, const char **bad, size_t *bad_len) {
        uint64_t v[2] = {};
        const char *start[2] = {};
        size_t len[2] = {};
        unsigned n = 0;
        const char *p = s;

        for (;;) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                start[n] = p;
                for (; *p >= '0' && *p <= '9'; p++)
                        if (v[n] <= UINT32_MAX) /* enough to know it is too large */
                                v[n] = v[n] * 10 + (uint64_t) (*p - '0');
                len[n] = (size_t) (p - start[n]);
                n++;
                if (*p == '\0')
                        break;
                if (*p != '-' || n == 2)
                        return -EINVAL;
                p++;
        }
        if (n == 1)
                v[1] = v[0];
        for (unsigned i = 0; i < n; i++)
                if (v[i] > POLICY_VCPU_INDEX_MAX) {
                        *bad = start[i];
                        *bad_len = len[i];
                        return -ERANGE;
                }
        *ret = (PolicyVcpuRange) { (uint32_t) v[0], (uint32_t) v[1] };
        return 0;
}

/* One vcpu item: an integer, or a string "N" or "A-B". */
static bool parse_vcpu_item(Ctx *c, struct json_object *v, const char *path, bool in_list, PolicyVcpuRange *ret) {
        PolicyVcpuRange range;
        const char *s, *bad = NULL;
        size_t bad_len = 0;
        int r;

        if (json_object_is_type(v, json_type_int)) {
                int64_t i = json_object_get_int64(v);

                if (i < 0) {
                        err(c, path, "expected " VCPUS_EXPECTED ", got %s", DESCRIBE(v));
                        return false;
                }
                if ((uint64_t) i > POLICY_VCPU_INDEX_MAX) {
                        err(c, path, "vcpu %s is above the largest vcpu index, %" PRIu32, DESCRIBE(v),
                            POLICY_VCPU_INDEX_MAX);
                        return false;
                }
                *ret = (PolicyVcpuRange) { (uint32_t) i, (uint32_t) i };
                return true;
        }
        if (!json_object_is_type(v, json_type_string)) {
                err(c, path, "expected " VCPUS_EXPECTED ", got %s", DESCRIBE(v));
                return false;
        }
        s = json_object_get_string(v);
        if (in_list && streq(s, "all")) {
                err(c, path, "\"all\" cannot be part of a list: write \"vcpus\": \"all\"");
                return false;
        }
        r = parse_vcpu_text(s, &range, &bad, &bad_len);
        if (r == -ERANGE) {
                err(c, path, "vcpu %.*s is above the largest vcpu index, %" PRIu32,
                    (int) (bad_len < POLICY_QUOTE_MAX ? bad_len : POLICY_QUOTE_MAX), bad, POLICY_VCPU_INDEX_MAX);
                return false;
        }
        if (r < 0) {
                err(c, path, "expected " VCPUS_EXPECTED ", got %s", DESCRIBE(v));
                return false;
        }
        if (range.first > range.last) {
                err(c, path, "range %s is empty", s);
                return false;
        }
        *ret = range;
        return true;
}

static int range_compare(const void *a, const void *b) {
        const PolicyVcpuRange *x = a, *y = b;

        if (x->first != y->first)
                return x->first < y->first ? -1 : 1;
        if (x->last != y->last)
                return x->last < y->last ? -1 : 1;
        return 0;
}

/* Sort, then merge overlapping and adjacent ranges, so that a lookup can
 * stop at the first range that ends at or after the vcpu. */
static void normalize_ranges(Policy *p) {
        size_t out = 0;

        if (p->n_vcpus == 0)
                return;
        qsort(p->vcpus, p->n_vcpus, sizeof(PolicyVcpuRange), range_compare);
        for (size_t i = 1; i < p->n_vcpus; i++) {
                PolicyVcpuRange *last = &p->vcpus[out];

                if ((uint64_t) p->vcpus[i].first <= (uint64_t) last->last + 1) {
                        if (p->vcpus[i].last > last->last)
                                last->last = p->vcpus[i].last;
                } else
                        p->vcpus[++out] = p->vcpus[i];
        }
        p->n_vcpus = out + 1;
}

static void parse_vcpus(Ctx *c, struct json_object *v, bool present) {
        size_t n;

        if (!present || (json_object_is_type(v, json_type_string) && streq(json_object_get_string(v), "all"))) {
                c->p->all_vcpus = true;
                return;
        }
        if (!json_object_is_type(v, json_type_array)) {
                PolicyVcpuRange range;

                if (!parse_vcpu_item(c, v, ".targets.vcpus", false, &range))
                        return;
                c->p->vcpus = malloc(sizeof(PolicyVcpuRange));
                if (!c->p->vcpus) {
                        c->oom = true;
                        return;
                }
                c->p->vcpus[0] = range;
                c->p->n_vcpus = 1;
                return;
        }
        if (!get_list(c, v, ".targets.vcpus", VCPUS_EXPECTED, POLICY_VCPU_ITEMS_MAX,
                      "an empty list can never match: write \"all\", or list vcpu indexes", &n))
                return;
        c->p->vcpus = calloc(n, sizeof(PolicyVcpuRange));
        if (!c->p->vcpus) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                char path[POLICY_PATH_MAX];

                (void) policy_path_index(path, ".targets.vcpus", i);
                if (parse_vcpu_item(c, json_object_array_get_idx(v, i), path, true, &c->p->vcpus[c->p->n_vcpus]))
                        c->p->n_vcpus++;
        }
        normalize_ranges(c->p);
}

static void parse_targets(Ctx *c, struct json_object *root) {
        struct json_object *t, *v;
        bool present, any_selector = false;
        const char *s;

        t = member(root, "targets", &present);
        if (!present) {
                err(c, ".targets", "required: the VMs and vcpus to inject into, e.g. {\"names\": [\"vm-1\"]}");
                return;
        }
        if (!json_object_is_type(t, json_type_object)) {
                err(c, ".targets", "expected an object such as {\"names\": [\"vm-1\"], \"vcpus\": \"all\"}, got %s",
                    DESCRIBE(t));
                return;
        }
        check_keys(c, t, ".targets", target_keys, ELEMENTSOF(target_keys), NULL);

        v = member(t, "names", &present);
        if (present) {
                any_selector = true;
                parse_names(c, v);
        }
        v = member(t, "globs", &present);
        if (present) {
                any_selector = true;
                parse_globs(c, v);
        }
        v = member(t, "labels", &present);
        if (present) {
                any_selector = true;
                parse_labels(c, v);
        }
        if (!any_selector)
                err(c, ".targets", "selects no VM: give \"names\", \"globs\" or \"labels\" (\"globs\": [\"*\"] "
                    "selects every VM)");

        v = member(t, "vcpus", &present);
        parse_vcpus(c, v, present);

        v = member(t, "pick", &present);
        c->p->pick = POLICY_PICK_ONE;
        if (present && get_string(c, v, ".targets.pick", "\"one\" or \"all\"", &s)) {
                if (streq(s, "one"))
                        c->p->pick = POLICY_PICK_ONE;
                else if (streq(s, "all"))
                        c->p->pick = POLICY_PICK_ALL;
                else
                        err(c, ".targets.pick", "expected \"one\" (a random target per event) or \"all\" (every "
                            "target per event), got %s", DESCRIBE(v));
        }
}

/* A text is an SError syndrome, or an x86 machine check ("srao", "mce:..."). */
static bool parse_syndrome_text(Ctx *c, const char *text, const char *path, bool allow_ids, PolicyMixEntry *ret) {
        serror_diag diag = {};
        serror_syndrome s;
        serror_mce mce;

        if (serror_mce_text_is_mce(text)) {
                if (serror_mce_parse(text, &mce, &diag) < 0) {
                        err(c, path, "%s", diag.message);
                        return false;
                }
                ret->is_mce = true;
                ret->mce = mce;
                return true;
        }
        if (serror_syndrome_parse(text, allow_ids ? SERROR_ALLOW_IDS : 0, &s, &diag) == 0) {
                ret->syndrome = s;
                return true;
        }
        if (!allow_ids && serror_syndrome_parse(text, SERROR_ALLOW_IDS, &s, NULL) == 0)
                err(c, path, "an IDS=1 (IMPLEMENTATION DEFINED) syndrome is outside KVM's documented ABI: set "
                    "\"allow_ids\": true in \"error\" to opt in");
        else
                err(c, path, "%s", diag.message);
        return false;
}

/* A structured field's text, refused when it would smuggle in another field. */
static bool field_text(Ctx *c, struct json_object *v, const char *path, const char *expected, char *buf,
                       size_t size) {
        if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
            json_object_get_int64(v) <= UINT32_MAX) {
                (void) snprintf(buf, size, "0x%" PRIx64, (uint64_t) json_object_get_int64(v));
                return true;
        }
        if (json_object_is_type(v, json_type_string) && !isempty(json_object_get_string(v)) &&
            !strpbrk(json_object_get_string(v), ",=") && strlen(json_object_get_string(v)) < size) {
                (void) snprintf(buf, size, "%s", json_object_get_string(v));
                return true;
        }
        err(c, path, "expected %s, got %s", expected, DESCRIBE(v));
        return false;
}

/* {"aet": "uer", "iesb": true, ...}: written out in the text form, so both
 * forms meet the same rules and the same messages. */
static bool parse_syndrome_object(Ctx *c, struct json_object *obj, const char *path, bool allow_ids,
                                  PolicyMixEntry *ret) {
        char text[256] = "", value[64];
        size_t len = 0;
        bool ok = true;

        check_keys(c, obj, path, syndrome_keys, ELEMENTSOF(syndrome_keys), NULL);
        for (size_t i = 0; i < ELEMENTSOF(syndrome_keys); i++) {
                const char *key = syndrome_keys[i];
                char child[POLICY_PATH_MAX];
                struct json_object *v;
                bool present, flag;
                serror_aet aet;

                v = member(obj, key, &present);
                if (!present)
                        continue;
                (void) policy_path_key(child, path, key, strlen(key));

                if (streq(key, "iesb") || streq(key, "ea")) {
                        if (!get_bool(c, v, child, &flag)) {
                                ok = false;
                                continue;
                        }
                        if (flag)
                                len += (size_t) snprintf(text + len, sizeof(text) - len, "%s%s", len ? "," : "", key);
                        continue;
                }
                if (streq(key, "aet")) {
                        if (!json_object_is_type(v, json_type_string) ||
                            serror_aet_from_string(json_object_get_string(v), &aet) < 0) {
                                err(c, child, "expected an AET name (uc, ueu, ueo, uer or ce), got %s", DESCRIBE(v));
                                ok = false;
                                continue;
                        }
                        (void) snprintf(value, sizeof(value), "%s", json_object_get_string(v));
                } else if (!field_text(c, v, child,
                                       streq(key, "dfsc") ? "\"async\", \"uncategorized\" or a number"
                                                          : "a number (an integer, or a string such as \"0xc11\")",
                                       value, sizeof(value))) {
                        ok = false;
                        continue;
                }
                len += (size_t) snprintf(text + len, sizeof(text) - len, "%s%s=%s", len ? "," : "", key, value);
        }
        if (!ok)
                return false;
        if (len == 0) {
                err(c, path, "no syndrome fields: give at least \"aet\" (e.g. {\"aet\": \"uer\"}), or \"iss\" for "
                    "a whole ISS");
                return false;
        }
        return parse_syndrome_text(c, text, path, allow_ids, ret);
}

static bool parse_syndrome(Ctx *c, struct json_object *v, const char *path, bool allow_ids, PolicyMixEntry *ret) {
        if (json_object_is_type(v, json_type_string))
                return parse_syndrome_text(c, json_object_get_string(v), path, allow_ids, ret);
        if (json_object_is_type(v, json_type_object))
                return parse_syndrome_object(c, v, path, allow_ids, ret);
        err(c, path, "expected a syndrome such as \"uer\" or \"aet=ce,iesb\", or an object such as "
            "{\"aet\": \"uer\", \"iesb\": true}, got %s", DESCRIBE(v));
        return false;
}

static bool add_mix(Ctx *c, size_t n) {
        c->p->mix = calloc(n, sizeof(PolicyMixEntry));
        if (!c->p->mix)
                c->oom = true;
        return c->p->mix;
}

static void parse_mix(Ctx *c, struct json_object *v, bool allow_ids) {
        size_t n;

        if (!get_list(c, v, ".error.mix",
                      "a list such as [{\"syndrome\": \"ce\", \"weight\": 3}, {\"syndrome\": \"uer\", \"weight\": 1}]",
                      POLICY_MIX_MAX, "an empty mix has nothing to inject", &n))
                return;
        if (!add_mix(c, n))
                return;
        for (size_t i = 0; i < n; i++) {
                struct json_object *entry = json_object_array_get_idx(v, i), *s, *w;
                char path[POLICY_PATH_MAX], child[POLICY_PATH_MAX];
                PolicyMixEntry e = { .weight = 1 };
                bool present, ok = true;
                uint64_t weight;

                (void) policy_path_index(path, ".error.mix", i);
                if (!json_object_is_type(entry, json_type_object)) {
                        err(c, path, "expected an object such as {\"syndrome\": \"ce\", \"weight\": 3}, got %s",
                            DESCRIBE(entry));
                        continue;
                }
                check_keys(c, entry, path, mix_keys, ELEMENTSOF(mix_keys), NULL);

                s = member(entry, "syndrome", &present);
                (void) policy_path_key(child, path, "syndrome", strlen("syndrome"));
                if (!present) {
                        err(c, child, "required: the syndrome this entry injects, such as \"ce\"");
                        ok = false;
                } else if (!parse_syndrome(c, s, child, allow_ids, &e))
                        ok = false;

                w = member(entry, "weight", &present);
                (void) policy_path_key(child, path, "weight", strlen("weight"));
                if (present) {
                        if (get_uint(c, w, child, "a positive integer", 1, POLICY_WEIGHT_MAX, &weight))
                                e.weight = (uint32_t) weight;
                        else
                                ok = false;
                }
                if (!ok)
                        continue;
                c->p->mix[c->p->n_mix++] = e;
                c->p->total_weight += e.weight;
        }
}

static void parse_error(Ctx *c, struct json_object *root) {
        struct json_object *e, *v, *syndrome, *mix;
        bool present, have_syndrome, have_mix;
        PolicyMixEntry s = { .weight = 1 };
        const char *text;

        c->p->on_pending = SERROR_MODE_MERGE;

        e = member(root, "error", &present);
        if (!present) {
                err(c, ".error", "required: the syndrome to inject, such as \"uer\" or {\"syndrome\": \"ce\"}");
                return;
        }
        if (json_object_is_type(e, json_type_string)) {
                /* "error": "uer" is short for "error": {"syndrome": "uer"}. */
                if (parse_syndrome_text(c, json_object_get_string(e), ".error", false, &s) && add_mix(c, 1)) {
                        c->p->mix[0] = s;
                        c->p->n_mix = 1;
                        c->p->total_weight = 1;
                }
                return;
        }
        if (!json_object_is_type(e, json_type_object)) {
                err(c, ".error", "expected a syndrome such as \"uer\", or an object with \"syndrome\" or \"mix\", "
                    "got %s", DESCRIBE(e));
                return;
        }
        check_keys(c, e, ".error", error_keys, ELEMENTSOF(error_keys), NULL);

        v = member(e, "allow_ids", &present);
        if (present)
                (void) get_bool(c, v, ".error.allow_ids", &c->p->allow_ids);

        v = member(e, "on_pending", &present);
        if (present && get_string(c, v, ".error.on_pending", "\"merge\", \"defer\" or \"skip\"", &text)) {
                /* Only the lower-case words: serror_mode_from_string() would also take "MERGE". */
                if (streq(text, "merge") || streq(text, "defer") || streq(text, "skip"))
                        (void) serror_mode_from_string(text, &c->p->on_pending);
                else
                        err(c, ".error.on_pending", "expected \"merge\", \"defer\" or \"skip\" (what to do when "
                            "an SError is already pending), got %s", DESCRIBE(v));
        }

        syndrome = member(e, "syndrome", &have_syndrome);
        mix = member(e, "mix", &have_mix);
        if (have_syndrome && have_mix) {
                err(c, ".error", "give either \"syndrome\" or \"mix\", not both");
                return;
        }
        if (!have_syndrome && !have_mix) {
                err(c, ".error", "says nothing to inject: give \"syndrome\" (one syndrome) or \"mix\" (a weighted "
                    "list of syndromes)");
                return;
        }
        if (have_mix) {
                parse_mix(c, mix, c->p->allow_ids);
                return;
        }
        if (parse_syndrome(c, syndrome, ".error.syndrome", c->p->allow_ids, &s) && add_mix(c, 1)) {
                c->p->mix[0] = s;
                c->p->n_mix = 1;
                c->p->total_weight = 1;
        }
}

/* Durations of one object: key, the minimum, whether it must be there. */
static bool schedule_duration(Ctx *c, struct json_object *sched, const char *key, uint64_t min, bool required,
                              const char *required_message, uint64_t *ret) {
        char path[POLICY_PATH_MAX];
        struct json_object *v;
        bool present;

        (void) policy_path_key(path, ".schedule", key, strlen(key));
        v = member(sched, key, &present);
        if (!present) {
                if (required)
                        err(c, path, "%s", required_message);
                return false;
        }
        return get_duration(c, v, path, min, ret);
}

static bool parse_once(Ctx *c, struct json_object *sched) {
        PolicySchedule *s = &c->p->schedule;
        bool have_at, have_after;
        struct json_object *at;
        const char *text, *reason = NULL;

        at = member(sched, "at", &have_at);
        (void) member(sched, "after", &have_after);
        if (have_at && have_after) {
                err(c, ".schedule", "give \"at\" or \"after\", not both");
                return false;
        }
        if (!have_at && !have_after) {
                err(c, ".schedule", "a \"once\" schedule needs \"at\" (an RFC 3339 time such as "
                    "\"2030-01-01T12:00:00Z\") or \"after\" (a duration such as \"30s\")");
                return false;
        }
        if (have_after)
                return schedule_duration(c, sched, "after", 0, true, NULL, &s->after_usec);

        if (!get_string(c, at, ".schedule.at", "an RFC 3339 time such as \"2030-01-01T12:00:00Z\"", &text))
                return false;
        if (policy_parse_rfc3339(text, &s->at_usec, &reason) < 0) {
                err(c, ".schedule.at", "expected an RFC 3339 time such as \"2030-01-01T12:00:00Z\", got %s: %s",
                    DESCRIBE(at), reason);
                return false;
        }
        s->has_at = true;
        return true;
}

static bool parse_interval(Ctx *c, struct json_object *sched) {
        PolicySchedule *s = &c->p->schedule;
        char a[32], b[32];
        bool ok;

        ok = schedule_duration(c, sched, "period", POLICY_PERIOD_MIN_USEC, true,
                               "required: the time between events, such as \"1s\"", &s->period_usec);
        if (!json_object_object_get_ex(sched, "jitter", NULL))
                return ok;
        if (!schedule_duration(c, sched, "jitter", 0, false, NULL, &s->jitter_usec))
                return false;
        if (ok && s->jitter_usec >= s->period_usec) {
                /* Each event is delayed by up to the jitter; staying below
                 * the period keeps events in order. */
                policy_format_duration(s->period_usec, a, sizeof(a));
                policy_format_duration(s->jitter_usec, b, sizeof(b));
                err(c, ".schedule.jitter", "must be less than the period (%s), got %s", a, b);
                return false;
        }
        return ok;
}

static bool parse_poisson(Ctx *c, struct json_object *sched) {
        PolicySchedule *s = &c->p->schedule;
        struct json_object *v;
        bool present;
        double rate;

        v = member(sched, "rate", &present);
        if (!present) {
                err(c, ".schedule.rate", "required: the mean number of events per second, such as 2.5");
                return false;
        }
        if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
                err(c, ".schedule.rate", "expected a number of events per second, such as 2.5, got %s", DESCRIBE(v));
                return false;
        }
        rate = json_object_get_double(v);
        if (!isfinite(rate)) {
                err(c, ".schedule.rate", "must be a finite number of events per second, got %s", DESCRIBE(v));
                return false;
        }
        if (rate <= 0) {
                err(c, ".schedule.rate", "must be > 0, got %s", DESCRIBE(v));
                return false;
        }
        if (rate < POLICY_RATE_MIN) {
                err(c, ".schedule.rate", "must be at least 0.000001 per second (one event in 11.6 days), got %s",
                    DESCRIBE(v));
                return false;
        }
        if (rate > POLICY_RATE_MAX) {
                err(c, ".schedule.rate", "must be at most %.0f per second, got %s", POLICY_RATE_MAX, DESCRIBE(v));
                return false;
        }
        s->rate = rate;
        /* One IEEE division and one addition: the same result on every
         * machine, which the plan's determinism needs. */
        s->mean_ns = (uint64_t) (1e9 / rate + 0.5);
        return true;
}

static bool parse_burst(Ctx *c, struct json_object *sched) {
        PolicySchedule *s = &c->p->schedule;
        struct json_object *v;
        bool present, ok = true, have_spacing;
        uint64_t count;
        char a[32], b[32];

        v = member(sched, "count", &present);
        if (!present) {
                err(c, ".schedule.count", "required: the number of events in each burst");
                ok = false;
        } else if (get_uint(c, v, ".schedule.count", "a positive integer", 1, POLICY_BURST_COUNT_MAX, &count))
                s->count = (uint32_t) count;
        else
                ok = false;

        (void) member(sched, "spacing", &have_spacing);
        if (have_spacing) {
                if (!schedule_duration(c, sched, "spacing", 0, false, NULL, &s->spacing_usec))
                        ok = false;
        } else if (ok && s->count > 1) {
                err(c, ".schedule.spacing", "required when count is above 1: the time between the events of a "
                    "burst, such as \"10ms\"");
                ok = false;
        }

        if (!json_object_object_get_ex(sched, "period", NULL))
                return ok;
        if (!schedule_duration(c, sched, "period", POLICY_PERIOD_MIN_USEC, false, NULL, &s->period_usec))
                return false;
        if (ok && s->period_usec <= (uint64_t) (s->count - 1) * s->spacing_usec) {
                /* Bursts must not overlap: each one ends before the next starts. */
                policy_format_duration((uint64_t) (s->count - 1) * s->spacing_usec, a, sizeof(a));
                policy_format_duration(s->period_usec, b, sizeof(b));
                err(c, ".schedule.period", "must be longer than one burst ((count - 1) x spacing = %s), got %s", a,
                    b);
                return false;
        }
        return ok;
}

static bool parse_schedule(Ctx *c, struct json_object *root) {
        static const char *const all_keys[] = { "type", "at", "after", "period", "jitter", "rate", "count", "spacing" };
        struct json_object *sched, *v;
        bool present;
        const char *type;
        unsigned t;

        sched = member(root, "schedule", &present);
        if (!present) {
                err(c, ".schedule", "required: when to inject, e.g. {\"type\": \"interval\", \"period\": \"1s\"}");
                return false;
        }
        if (!json_object_is_type(sched, json_type_object)) {
                err(c, ".schedule", "expected an object such as {\"type\": \"interval\", \"period\": \"1s\"}, got %s",
                    DESCRIBE(sched));
                return false;
        }
        v = member(sched, "type", &present);
        if (!present) {
                check_keys(c, sched, ".schedule", all_keys, ELEMENTSOF(all_keys), NULL);
                err(c, ".schedule.type", "required: \"once\", \"interval\", \"poisson\" or \"burst\"");
                return false;
        }
        if (!get_string(c, v, ".schedule.type", "\"once\", \"interval\", \"poisson\" or \"burst\"", &type))
                return false;
        for (t = 0; t < _POLICY_SCHEDULE_MAX; t++)
                if (streq(type, schedule_type_table[t]))
                        break;
        if (t == _POLICY_SCHEDULE_MAX) {
                check_keys(c, sched, ".schedule", all_keys, ELEMENTSOF(all_keys), NULL);
                err(c, ".schedule.type", "unknown schedule type %s (known: once, interval, poisson, burst)",
                    DESCRIBE(v));
                return false;
        }
        c->p->schedule.type = (PolicyScheduleType) t;
        check_keys(c, sched, ".schedule", schedule_keys[t].keys, schedule_keys[t].n, type);

        switch (c->p->schedule.type) {
        case POLICY_SCHEDULE_ONCE:
                return parse_once(c, sched);
        case POLICY_SCHEDULE_INTERVAL:
                return parse_interval(c, sched);
        case POLICY_SCHEDULE_POISSON:
                return parse_poisson(c, sched);
        case POLICY_SCHEDULE_BURST:
                return parse_burst(c, sched);
        default:
                return false;
        }
}

static void parse_seed(Ctx *c, struct json_object *root) {
        static const char expected[] =
                "an unsigned 64-bit integer: a number up to 2^53, or a decimal or 0x hexadecimal string";
        struct json_object *v;
        bool present;
        uint64_t seed;

        v = member(root, "seed", &present);
        if (!present)
                return;
        if (json_object_is_type(v, json_type_int)) {
                if (json_object_get_int64(v) < 0) {
                        err(c, ".seed", "expected %s, got %s", expected, DESCRIBE(v));
                        return;
                }
                seed = json_object_get_uint64(v);
                if (seed > POLICY_SEED_NUMBER_MAX) {
                        /* json-c reads it exactly, but jq, JavaScript and
                         * Python's json module round it to a double. */
                        err(c, ".seed", "%s is above 2^53, where many JSON tools round numbers: write it as a "
                            "string, \"%" PRIu64 "\" or \"0x%" PRIx64 "\"", DESCRIBE(v), seed, seed);
                        return;
                }
        } else if (json_object_is_type(v, json_type_string)) {
                if (parse_u64(json_object_get_string(v), &seed) < 0) {
                        err(c, ".seed", "expected %s, got %s", expected, DESCRIBE(v));
                        return;
                }
        } else {
                err(c, ".seed", "expected %s, got %s", expected, DESCRIBE(v));
                return;
        }
        c->p->has_seed = true;
        c->p->seed = seed;
}

static const char *const stop_keys[] = { "fates", "vms", "fraction", "within", "not_taken_for" };

static void parse_stop_fates(Ctx *c, struct json_object *v, PolicyStopWhen *w) {
        char path[POLICY_PATH_MAX];
        size_t n;

        if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) == 0) {
                err(c, ".stop_when.fates", "expected a non-empty array of fates such as [\"reset\", \"vmm-exited\"], got %s",
                    DESCRIBE(v));
                return;
        }
        w->fates = 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(v, i);
                const char *s;
                Fate f;

                snprintf(path, sizeof(path), ".stop_when.fates[%zu]", i);
                if (!get_string(c, e, path, "a fate name", &s))
                        continue;
                if (fate_from_string(s, &f) < 0 || f == FATE_UNKNOWN) {
                        err(c, path, "unknown fate %s (known: reset, shutdown, crash, system-event, triple-fault, "
                            "internal-error, vmm-exited, detached)", DESCRIBE(e));
                        continue;
                }
                if (f == FATE_RUNNING) {
                        err(c, path, "\"running\" is what a campaign expects, not a reason to stop it");
                        continue;
                }
                w->fates |= 1u << f;
        }
}

static void parse_stop_when(Ctx *c, struct json_object *root) {
        PolicyStopWhen *w = &c->p->stop_when;
        struct json_object *v, *sw;
        bool present, have_fates, have_within, have_not_taken, have_count;

        sw = member(root, "stop_when", &present);
        if (!present)
                return;
        if (!json_object_is_type(sw, json_type_object)) {
                err(c, ".stop_when", "expected an object such as {\"fates\": [\"reset\"], \"vms\": 2}, got %s",
                    DESCRIBE(sw));
                return;
        }
        check_keys(c, sw, ".stop_when", stop_keys, ELEMENTSOF(stop_keys), NULL);
        w->enabled = true;
        w->fates = POLICY_STOP_FATES_DEFAULT;

        v = member(sw, "fates", &have_fates);
        if (have_fates)
                parse_stop_fates(c, v, w);
        v = member(sw, "vms", &present);
        have_count = present;
        if (present)
                (void) get_uint(c, v, ".stop_when.vms", "a positive number of VMs", 1, UINT32_MAX, &w->vms);
        v = member(sw, "fraction", &present);
        have_count = have_count || present;
        if (present) {
                double f = json_object_get_double(v);

                if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
                        err(c, ".stop_when.fraction", "expected a fraction of the targeted VMs such as 0.25, got %s",
                            DESCRIBE(v));
                else if (!isfinite(f) || f <= 0 || f > 1)
                        err(c, ".stop_when.fraction", "must be > 0 and at most 1, got %s", DESCRIBE(v));
                else
                        w->fraction = f;
        }
        v = member(sw, "within", &have_within);
        if (have_within)
                (void) get_duration(c, v, ".stop_when.within", 1, &w->within_usec);
        v = member(sw, "not_taken_for", &have_not_taken);
        if (have_not_taken && get_duration(c, v, ".stop_when.not_taken_for", REACTION_WINDOW_MIN_USEC, &w->not_taken_usec) &&
            w->not_taken_usec > REACTION_WINDOW_MAX_USEC) {
                err(c, ".stop_when.not_taken_for", "must be at most 10min (the longest a reaction is watched), got %s",
                    DESCRIBE(v));
                w->not_taken_usec = 0;
        }

        if (w->vms && w->fraction > 0)
                err(c, ".stop_when.fraction", "give \"vms\" or \"fraction\", not both");
        else if (!have_count && (have_fates || have_within))
                err(c, ".stop_when", "\"fates\" and \"within\" count VMs: give \"vms\" or \"fraction\" too");
        else if (!have_count && !have_not_taken)
                err(c, ".stop_when", "says nothing to stop on: give \"vms\", \"fraction\" or \"not_taken_for\"");
}

static void parse_root(Ctx *c, struct json_object *root) {
        struct json_object *v;
        bool schedule_ok, have_delay = false, have_duration = false, present;
        Policy *p = c->p;
        char a[32], b[32];

        if (!json_object_is_type(root, json_type_object)) {
                err(c, "", "expected a JSON object with \"name\", \"targets\", \"error\" and \"schedule\", got %s",
                    DESCRIBE(root));
                return;
        }
        check_keys(c, root, "", top_keys, ELEMENTSOF(top_keys), NULL);

        parse_name(c, root);
        parse_description(c, root);
        parse_targets(c, root);
        parse_error(c, root);
        schedule_ok = parse_schedule(c, root);

        v = member(root, "start_delay", &present);
        if (present)
                have_delay = get_duration(c, v, ".start_delay", 0, &p->start_delay_usec);
        v = member(root, "duration", &present);
        if (present)
                have_duration = get_duration(c, v, ".duration", 1, &p->duration_usec);
        v = member(root, "max_injections", &present);
        if (present)
                (void) get_uint(c, v, ".max_injections", "a positive integer", 1, POLICY_MAX_INJECTIONS_MAX,
                                &p->max_injections);
        parse_seed(c, root);
        parse_stop_when(c, root);

        if (have_delay && schedule_ok && p->schedule.has_at)
                err(c, ".start_delay", "cannot be combined with \"at\", which already is an absolute time");
        else if (have_delay && have_duration && p->start_delay_usec >= p->duration_usec) {
                policy_format_duration(p->start_delay_usec, a, sizeof(a));
                policy_format_duration(p->duration_usec, b, sizeof(b));
                err(c, ".start_delay", "%s is not before the end of \"duration\" (%s): nothing would ever run", a, b);
        } else if (have_duration && schedule_ok && p->schedule.type == POLICY_SCHEDULE_ONCE && !p->schedule.has_at &&
                   p->start_delay_usec + p->schedule.after_usec >= p->duration_usec) {
                policy_format_duration(p->duration_usec, a, sizeof(a));
                policy_format_duration(p->start_delay_usec + p->schedule.after_usec, b, sizeof(b));
                err(c, ".duration", "ends at %s, before the only event at %s (start_delay + after)", a, b);
        }
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->description);
        for (size_t i = 0; p->names && i < p->n_names; i++)
                free(p->names[i]);
        free(p->names);
        for (size_t i = 0; p->globs && i < p->n_globs; i++)
                free(p->globs[i]);
        free(p->globs);
        for (size_t i = 0; p->labels && i < p->n_labels; i++) {
                free(p->labels[i].key);
                free(p->labels[i].value);
        }
        free(p->labels);
        free(p->vcpus);
        free(p->mix);
        free(p);
        return NULL;
}

/* Errors with a line first, in the order of the text; the rest after, in the
 * order they were found. n is at most POLICY_ERRORS_MAX: insertion sort. */
static void sort_errors(PolicyDiag *d) {
        for (size_t i = 1; i < d->n_errors; i++) {
                PolicyError e = d->errors[i];
                size_t j = i;

                for (; j > 0; j--) {
                        const PolicyError *prev = &d->errors[j - 1];
                        bool before = e.line != 0 &&
                                      (prev->line == 0 || e.line < prev->line ||
                                       (e.line == prev->line && e.column < prev->column));

                        if (!before)
                                break;
                        d->errors[j] = d->errors[j - 1];
                }
                d->errors[j] = e;
        }
}

static void syntax_error(PolicyDiag *d, const char *text, size_t size, size_t offset, enum json_tokener_error e) {
        unsigned line, column;

        policy_text_position(text, size, offset, &line, &column);
        switch (e) {
        case json_tokener_continue:
        case json_tokener_error_parse_eof:
                policy_diag_add(d, line, column, "", "the text ends inside a JSON value (an object, array or string "
                                "is not closed)");
                break;
        case json_tokener_error_depth:
                policy_diag_add(d, line, column, "", "nested more than %d levels deep", POLICY_DEPTH_MAX);
                break;
        case json_tokener_error_parse_utf8_string:
                policy_diag_add(d, line, column, "", "not valid UTF-8");
                break;
        default:
                policy_diag_add(d, line, column, "", "JSON syntax error: %s", json_tokener_error_desc(e));
                break;
        }
}

static bool only_space(const char *text, size_t size) {
        for (size_t i = 0; i < size; i++)
                if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
                        return false;
        return true;
}

/* What json-c would take without a useful message: a NUL byte, or nothing at all. */
static int check_text_shape(const char *body, size_t size, size_t skip, PolicyDiag *diag) {
        const char *nul = memchr(body, '\0', size);

        if (nul) {
                unsigned line, column;

                policy_text_position(body, size, (size_t) (nul - body), &line, &column);
                policy_diag_add(diag, line, column + (line == 1 ? (unsigned) skip : 0), "",
                                "a NUL byte: a policy is UTF-8 text");
                return -EINVAL;
        }
        if (only_space(body, size)) {
                policy_diag_add(diag, 0, 0, ".", "the policy is empty: expected a JSON object such as "
                                "{\"name\": \"...\", \"targets\": ..., \"error\": ..., \"schedule\": ...}");
                return -EINVAL;
        }
        return 0;
}

/* The JSON syntax, strict and UTF-8 checked; a syntax error gets its line:column. */
static int parse_json(const char *body, size_t size, size_t skip, PolicyDiag *diag, struct json_object **ret) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new_ex(POLICY_DEPTH_MAX);
        struct json_object *root;
        enum json_tokener_error e;

        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        root = json_tokener_parse_ex(tok, body, (int) size);
        e = json_tokener_get_error(tok);
        if (!root && e == json_tokener_continue) {
                /* A bare number needs to see its end; json-c takes a NUL for that. */
                root = json_tokener_parse_ex(tok, "", 1);
                e = json_tokener_get_error(tok);
                if (!root) {
                        syntax_error(diag, body, size, size, e == json_tokener_success ? json_tokener_continue : e);
                        return -EINVAL;
                }
        } else if (!root) {
                syntax_error(diag, body, size, json_tokener_get_parse_end(tok), e);
                if (diag->errors[0].line == 1)
                        diag->errors[0].column += (unsigned) skip;
                return -EINVAL;
        }
        *ret = root;
        return 0;
}

int policy_parse(const char *text, size_t size, Policy **ret, PolicyDiag *diag) {
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ PolicyDiag *own = NULL;
        size_t skip = 0, first_semantic;
        const char *body;
        Ctx c;
        int r;

        if (!ret || (!text && size > 0))
                return -EINVAL;
        if (!diag) {
                own = malloc(sizeof(PolicyDiag));
                if (!own)
                        return -ENOMEM;
                diag = own;
        }
        memset(diag, 0, sizeof(*diag));

        if (size > POLICY_TEXT_MAX) {
                policy_diag_add(diag, 0, 0, ".", "the policy is %zu bytes long, at most %u allowed", size,
                                POLICY_TEXT_MAX);
                return -EFBIG;
        }
        /* RFC 8259 section 8.1 lets a parser ignore a byte order mark; json-c does not. */
        if (size >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                skip = 3;
        body = text ? text + skip : "";
        size -= skip;

        r = check_text_shape(body, size, skip, diag);
        if (r < 0)
                return r;
        r = parse_json(body, size, skip, diag, &root);
        if (r < 0)
                return r;
        policy_text_check(body, size, diag);

        p = calloc(1, sizeof(Policy));
        if (!p)
                return -ENOMEM;
        c = (Ctx) { .diag = diag, .p = p };
        first_semantic = diag->n_errors;
        parse_root(&c, root);
        if (c.oom)
                return -ENOMEM;

        policy_text_locate(body, size, diag, first_semantic);
        for (size_t i = 0; i < diag->n_errors; i++)
                if (diag->errors[i].line == 1)
                        diag->errors[i].column += (unsigned) skip;
        sort_errors(diag);

        if (diag->n_errors > 0 || diag->n_dropped > 0)
                return -EINVAL;

        *ret = TAKE_PTR(p);
        return 0;
}

int policy_error_format(const PolicyError *e, char *buf, size_t size) {
        char where[32] = "";

        if (e->line > 0 && e->column > 0)
                (void) snprintf(where, sizeof(where), "%u:%u: ", e->line, e->column);
        else if (e->line > 0)
                (void) snprintf(where, sizeof(where), "%u: ", e->line);
        if (isempty(e->path))
                return snprintf(buf, size, "%s%s", where, e->message);
        return snprintf(buf, size, "%s%s: %s", where, e->path, e->message);
}

bool policy_has_end(const Policy *p) {
        if (p->duration_usec > 0 || p->max_injections > 0)
                return true;
        return p->schedule.type == POLICY_SCHEDULE_ONCE ||
               (p->schedule.type == POLICY_SCHEDULE_BURST && p->schedule.period_usec == 0);
}

const char *policy_schedule_type_to_string(PolicyScheduleType t) {
        return (unsigned) t < _POLICY_SCHEDULE_MAX ? schedule_type_table[t] : NULL;
}

const char *policy_pick_to_string(PolicyPick p) {
        return (unsigned) p < _POLICY_PICK_MAX ? pick_table[p] : NULL;
}
