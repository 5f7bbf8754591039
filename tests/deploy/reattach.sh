#!/bin/sh
# Deployment tier, in a booted systemd container: VMs (the test VMM with libserror-agent) attached again within 1 s after restart, SIGKILL and reload; policies run again.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run reattach
