#!/bin/sh
# Deployment tier, in a booted systemd container: the installed files, systemd-analyze verify and security (exposure at most 2.0), serrord's real sandbox.
. "$abs_top_srcdir/tests/deploy/lib.sh"
deploy_run units
