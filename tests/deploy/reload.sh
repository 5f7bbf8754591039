#!/bin/sh
# Deployment tier, in a booted systemd container: systemctl reload and SIGHUP keep serrord and its VMs; an invalid policy makes the reload fail.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run reload
