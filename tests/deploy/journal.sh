#!/bin/sh
# Deployment tier, in a booted systemd container: structured journal records (MESSAGE, PRIORITY, CODE_FUNC, MESSAGE_ID and SERROR_* for outcomes).
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run journal
