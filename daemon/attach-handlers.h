/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What serrord does with each message an agent sends. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "connection.h"

/* One datagram as received: flags has MSG_TRUNC/MSG_CTRUNC when the transport
 * cut it; a handler that keeps an fd of fds sets that slot to -EBADF. Returns 0
 * to go on, or a negative errno when the connection must close. */
int attach_handle_datagram(Connection *c, const uint8_t *buf, size_t len, int flags, int *fds, unsigned n_fds);
