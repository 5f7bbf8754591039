#!/bin/sh
# Deployment tier, in a booted systemd container: the README's systemd drop-in for a VMM's unit (doc/qemu-unit-serror.conf) loads libserror-preload with its variables and the group serror.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run dropin
