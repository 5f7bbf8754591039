#!/bin/sh
# Deployment tier, in a booted systemd container: systemctl restart, SIGKILL with Restart=on-failure, and stop, with the attach socket held by systemd.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run restart
