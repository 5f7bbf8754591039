/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Doubly linked lists threaded through an item's own next and prev fields; the head is a pointer to the first item. */
#pragma once

#include <stddef.h>

/* head and item are evaluated more than once: pass plain lvalues. */
#define LIST_PREPEND(head, item)                        \
        do {                                            \
                (item)->prev = NULL;                    \
                (item)->next = (head);                  \
                if (head)                               \
                        (head)->prev = (item);          \
                (head) = (item);                        \
        } while (0)

/* item must be in the list that head starts. */
#define LIST_REMOVE(head, item)                         \
        do {                                            \
                if ((item)->prev)                       \
                        (item)->prev->next = (item)->next; \
                else                                    \
                        (head) = (item)->next;          \
                if ((item)->next)                       \
                        (item)->next->prev = (item)->prev; \
                (item)->next = (item)->prev = NULL;     \
        } while (0)
