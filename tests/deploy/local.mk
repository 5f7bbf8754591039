# tests/deploy: the deployment tier, serror installed and run under a real systemd in systemd-nspawn (DOMAIN.md section 9); included from Makefile.am.
#
# tests/deploy/prepare runs once before the tier: it builds (and caches) a
# Debian image with mmdebstrap and installs serror, built for /usr, into a
# staging tree. Each test boots a throw-away container from that image and
# skips (77) with the reason when it cannot run (not root, no
# systemd-nspawn or mmdebstrap: tests/deploy/setup-host installs them).
# Everything lives in $(DEPLOY_BUILD); `make clean-deploy` removes it.

DEPLOY_BUILD = $(abs_top_builddir)/tests/deploy/build

deploy_tests = \
	tests/deploy/completion.sh \
	tests/deploy/units.sh \
	tests/deploy/activation.sh \
	tests/deploy/access.sh \
	tests/deploy/restart.sh \
	tests/deploy/reattach.sh \
	tests/deploy/reload.sh \
	tests/deploy/journal.sh \
	tests/deploy/dropin.sh
deploy_guest = \
	tests/deploy/guest/run-guest \
	tests/deploy/guest/lib.sh \
	tests/deploy/guest/units.guest \
	tests/deploy/guest/activation.guest \
	tests/deploy/guest/access.guest \
	tests/deploy/guest/restart.guest \
	tests/deploy/guest/reattach.guest \
	tests/deploy/guest/reload.guest \
	tests/deploy/guest/journal.guest \
	tests/deploy/guest/dropin.guest

TESTS += $(deploy_tests)
EXTRA_DIST += $(deploy_tests) $(deploy_guest) \
	tests/deploy/lib.sh \
	tests/deploy/prepare \
	tests/deploy/mkimage \
	tests/deploy/setup-host

AM_TESTS_ENVIRONMENT += \
	DEPLOY_BUILD='$(DEPLOY_BUILD)'; export DEPLOY_BUILD; \
	DEPLOY_DEBS='$(DEPLOY_DEBS)'; export DEPLOY_DEBS; \
	SYSTEMD_NSPAWN='$(SYSTEMD_NSPAWN)'; export SYSTEMD_NSPAWN; \
	MMDEBSTRAP='$(MMDEBSTRAP)'; export MMDEBSTRAP;

# Image and staging tree once per run, before any test of the tier starts.
$(deploy_tests:.sh=.log): tests/deploy/prepared
tests/deploy/prepared: FORCE
	@$(MKDIR_P) $(DEPLOY_BUILD)
	$(AM_V_GEN)abs_top_srcdir='$(abs_top_srcdir)' DEPLOY_BUILD='$(DEPLOY_BUILD)' \
		SYSTEMD_NSPAWN='$(SYSTEMD_NSPAWN)' MMDEBSTRAP='$(MMDEBSTRAP)' \
		$(SHELL) $(srcdir)/tests/deploy/prepare
FORCE:

check-deploy:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(deploy_tests)'

# The same tier against Debian packages (dpkg-buildpackage -us -uc -b):
# make check-debs DEBS=/abs/folder/with/the/debs
check-debs:
	@case '$(DEBS)' in /*) ;; *) echo "usage: make check-debs DEBS=/absolute/folder (with serror_*.deb, libserror-agent1_*.deb)" >&2; exit 2 ;; esac
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(deploy_tests)' DEPLOY_DEBS='$(DEBS)'

clean-deploy:
	-rm -rf $(DEPLOY_BUILD)

clean-local: clean-deploy

.PHONY: check-deploy check-debs clean-deploy FORCE
