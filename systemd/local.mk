# systemd/ and shell-completion/: units, bus files, sysusers and tmpfiles snippets, bash completion; included from Makefile.am.
#
# Every directory comes from configure (pkg-config of systemd, dbus-1 and
# bash-completion, relative to ${prefix}), so --prefix, DESTDIR and
# `make distcheck` hold; `configure systemdsystemunitdir=DIR` and friends
# override one.

deploy_substitute = $(SED) -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g'

systemdsystemunit_DATA = systemd/serrord.service systemd/serrord.socket
dbussystemservice_DATA = systemd/org.serror.serror1.service
dbussystem_DATA = systemd/org.serror.serror1.conf
# sysusers.d and tmpfiles.d want NAME.conf: copies under that name.
sysusers_DATA = systemd/sysusers.d/serror.conf
tmpfiles_DATA = systemd/tmpfiles.d/serror.conf
dist_bashcompletion_DATA = shell-completion/bash/serrorctl

deploy_generated = $(systemdsystemunit_DATA) $(dbussystemservice_DATA) $(sysusers_DATA) $(tmpfiles_DATA)
CLEANFILES += $(deploy_generated)
EXTRA_DIST += \
	systemd/serrord.service.in \
	systemd/serrord.socket.in \
	systemd/org.serror.serror1.service.in \
	systemd/serror.sysusers \
	systemd/serror.tmpfiles \
	$(dbussystem_DATA)

systemd/serrord.service: systemd/serrord.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(deploy_substitute) $(srcdir)/systemd/serrord.service.in >$@.tmp && mv $@.tmp $@
systemd/serrord.socket: systemd/serrord.socket.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(deploy_substitute) $(srcdir)/systemd/serrord.socket.in >$@.tmp && mv $@.tmp $@
systemd/org.serror.serror1.service: systemd/org.serror.serror1.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(deploy_substitute) $(srcdir)/systemd/org.serror.serror1.service.in >$@.tmp && mv $@.tmp $@
systemd/sysusers.d/serror.conf: systemd/serror.sysusers
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/systemd/serror.sysusers $@
systemd/tmpfiles.d/serror.conf: systemd/serror.tmpfiles
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/systemd/serror.tmpfiles $@
