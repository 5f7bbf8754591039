/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach socket: where VMM agents connect (doc/attach-protocol.md). */
#pragma once

#include <ev.h>
#include <stdbool.h>

#include "access.h"

typedef struct Manager Manager;
typedef struct Connection Connection;

typedef struct AttachServer {
        Manager *manager;
        int listen_fd;
        bool socket_activated; /* systemd owns the path; never unlink it */
        char *path;
        ev_io io;
        ev_timer resume; /* accept() paused after EMFILE/ENFILE */
        AccessList access;

        Connection *connections;
        unsigned n_connections;
} AttachServer;

/* Listen on the socket systemd passed (sd_listen_fds) or create path. */
int attach_server_new(Manager *m, const char *path, AttachServer **ret);
AttachServer *attach_server_free(AttachServer *s);
