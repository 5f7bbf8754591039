/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which VMs and vcpus a policy's targets select, and the canonical target list a schedule draws from. */

#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"

static bool vm_has_label(const PolicyVmLabel *labels, size_t n, const PolicyLabel *want) {
        for (size_t i = 0; i < n; i++)
                if (labels[i].key && labels[i].value && streq(labels[i].key, want->key) &&
                    streq(labels[i].value, want->value))
                        return true;
        return false;
}

bool policy_match_vm(const Policy *p, const char *name, const PolicyVmLabel *labels, size_t n_labels) {
        bool by_name;

        if (!p || !name)
                return false;

        /* Names and globs are alternatives; labels narrow whatever they select. */
        by_name = p->n_names == 0 && p->n_globs == 0;
        for (size_t i = 0; !by_name && i < p->n_names; i++)
                by_name = streq(p->names[i], name);
        /* No FNM_PATHNAME or FNM_PERIOD: VM names hold neither '/' nor a
         * meaningful leading dot. No locale enters: VM names are ASCII. */
        for (size_t i = 0; !by_name && i < p->n_globs; i++)
                by_name = fnmatch(p->globs[i], name, 0) == 0;
        if (!by_name)
                return false;

        for (size_t i = 0; i < p->n_labels; i++)
                if (!vm_has_label(labels, n_labels, &p->labels[i]))
                        return false;
        return true;
}

bool policy_match_vcpu(const Policy *p, uint32_t vcpu) {
        if (!p || vcpu > POLICY_VCPU_INDEX_MAX)
                return false;
        if (p->all_vcpus)
                return true;
        /* Ranges are sorted and disjoint: the first that ends at or after
         * vcpu is the only one that can hold it. */
        for (size_t i = 0; i < p->n_vcpus; i++)
                if (vcpu <= p->vcpus[i].last)
                        return vcpu >= p->vcpus[i].first;
        return false;
}

int policy_target_compare(const PolicyTarget *a, const PolicyTarget *b) {
        int r = strcmp(a->vm, b->vm);

        if (r != 0)
                return r < 0 ? -1 : 1;
        if (a->vcpu != b->vcpu)
                return a->vcpu < b->vcpu ? -1 : 1;
        return 0;
}

static int target_compare_qsort(const void *a, const void *b) {
        return policy_target_compare(a, b);
}

int policy_targets_build(const Policy *p, const PolicyVm *vms, size_t n_vms, PolicyTarget **ret, size_t *ret_n) {
        _cleanup_free_ PolicyTarget *targets = NULL;
        size_t n = 0, allocated = 0, out;

        if (!p || !ret || !ret_n || (!vms && n_vms > 0))
                return -EINVAL;

        for (size_t i = 0; i < n_vms; i++) {
                const PolicyVm *vm = &vms[i];

                if (!vm->name || (!vm->vcpus && vm->n_vcpus > 0) || (!vm->labels && vm->n_labels > 0))
                        return -EINVAL;
                if (!policy_match_vm(p, vm->name, vm->labels, vm->n_labels))
                        continue;
                for (size_t j = 0; j < vm->n_vcpus; j++) {
                        if (!policy_match_vcpu(p, vm->vcpus[j]))
                                continue;
                        if (n >= POLICY_TARGETS_MAX)
                                return -E2BIG;
                        if (n == allocated) {
                                size_t want = allocated ? allocated * 2 : 16;
                                PolicyTarget *grown = reallocarray(targets, want, sizeof(PolicyTarget));

                                if (!grown)
                                        return -ENOMEM;
                                targets = grown;
                                allocated = want;
                        }
                        targets[n++] = (PolicyTarget) { .vm = vm->name, .vcpu = vm->vcpus[j] };
                }
        }

        if (n > 0) {
                qsort(targets, n, sizeof(PolicyTarget), target_compare_qsort);
                /* The same vcpu listed twice is one target. */
                out = 1;
                for (size_t i = 1; i < n; i++)
                        if (policy_target_compare(&targets[i], &targets[out - 1]) != 0)
                                targets[out++] = targets[i];
                n = out;
        }

        *ret = TAKE_PTR(targets);
        *ret_n = n;
        return 0;
}
