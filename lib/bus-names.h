/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The D-Bus names serrord owns and serrorctl calls: one place, so they cannot drift. */
#pragma once

/* Versioned like org.freedesktop.machine1: an incompatible API gets serror2. */
#define SERROR_BUS_NAME "org.serror.serror1"
#define SERROR_BUS_PATH "/org/serror/serror1"
#define SERROR_BUS_MANAGER_INTERFACE "org.serror.serror1.Manager"

/* Typed errors (daemon/bus-errors.h maps them to errno). */
#define SERROR_BUS_ERROR_NO_SUCH_VM "org.serror.serror1.NoSuchVM"
#define SERROR_BUS_ERROR_INVALID_SYNDROME "org.serror.serror1.InvalidSyndrome"
#define SERROR_BUS_ERROR_NOT_SUPPORTED "org.serror.serror1.NotSupported"
#define SERROR_BUS_ERROR_ACCESS_DENIED "org.serror.serror1.AccessDenied"
#define SERROR_BUS_ERROR_NO_SUCH_VCPU "org.serror.serror1.NoSuchVcpu"
#define SERROR_BUS_ERROR_BUSY "org.serror.serror1.Busy"
#define SERROR_BUS_ERROR_GUARD "org.serror.serror1.RefusedByGuard"
#define SERROR_BUS_ERROR_NO_SUCH_POLICY "org.serror.serror1.NoSuchPolicy"
#define SERROR_BUS_ERROR_INVALID_POLICY "org.serror.serror1.InvalidPolicy"
#define SERROR_BUS_ERROR_POLICY_EXISTS "org.serror.serror1.PolicyExists"
