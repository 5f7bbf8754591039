#!/bin/sh
# Deployment tier, in a booted systemd container: a user outside the serror group is refused mutating calls with the typed error; members and root are not.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run access
