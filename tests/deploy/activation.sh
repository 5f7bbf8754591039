#!/bin/sh
# Deployment tier, in a booted systemd container: socket activation by an agent, bus activation by serrorctl status, who reaches the socket.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run activation
