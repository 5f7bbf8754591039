/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resolves the configured allowlists and checks peers against them. */
#include <grp.h>
#include <pwd.h>

#include "access.h"
#include "log.h"
#include "parse-util.h"

void access_list_resolve(AccessList *a, const char *what, const ConfigId *users, unsigned n_users,
                         const ConfigId *groups, unsigned n_groups) {
        *a = (AccessList) {};
        for (unsigned i = 0; i < n_users; i++) {
                uint32_t id;
                struct passwd *pw;

                if (parse_u32(users[i].name, &id) == 0) {
                        a->users[a->n_users++] = (uid_t) id;
                        continue;
                }
                pw = getpwnam(users[i].name);
                if (pw)
                        a->users[a->n_users++] = pw->pw_uid;
                else
                        log_warning("%s: user '%s' does not exist; ignoring it.", what, users[i].name);
        }
        for (unsigned i = 0; i < n_groups; i++) {
                uint32_t id;
                struct group *gr;

                if (parse_u32(groups[i].name, &id) == 0) {
                        a->groups[a->n_groups++] = (gid_t) id;
                        continue;
                }
                gr = getgrnam(groups[i].name);
                if (gr)
                        a->groups[a->n_groups++] = gr->gr_gid;
                else
                        log_notice("%s: group '%s' does not exist; only root and the listed users are allowed.", what,
                                   groups[i].name);
        }
}

static bool gid_listed(const AccessList *a, gid_t gid) {
        for (unsigned i = 0; i < a->n_groups; i++)
                if (a->groups[i] == gid)
                        return true;
        return false;
}

bool access_list_allows(const AccessList *a, uid_t uid, gid_t gid, const gid_t *supplementary, size_t n_supplementary) {
        if (uid == 0)
                return true;
        for (unsigned i = 0; i < a->n_users; i++)
                if (a->users[i] == uid)
                        return true;
        if (gid_listed(a, gid))
                return true;
        for (size_t i = 0; i < n_supplementary; i++)
                if (gid_listed(a, supplementary[i]))
                        return true;
        return false;
}
