/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Linked lists threaded through an item's own fields: doubly linked lists (next, prev; the head points
 * at the first item), and FIFO queues (next; a head and a tail pointer). */
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

/* Append item to the queue of head and tail (both NULL when it is empty). */
#define QUEUE_APPEND(head, tail, item)                  \
        do {                                            \
                (item)->next = NULL;                    \
                if (tail)                               \
                        (tail)->next = (item);          \
                else                                    \
                        (head) = (item);                \
                (tail) = (item);                        \
        } while (0)
