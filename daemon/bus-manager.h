/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The org.serror.serror1.Manager D-Bus interface. */
#pragma once

typedef struct Manager Manager;

int bus_manager_add(Manager *m);
