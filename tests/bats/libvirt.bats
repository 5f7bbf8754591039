#!/usr/bin/env bats
# libvirt starts QEMU with libserror-preload the way the README says: the <qemu:commandline> of doc/libvirt-domain-serror.xml, in libvirt's own QEMU user and seccomp sandbox (host, emulated: qemu.bats has the preload serving a KVM QEMU).

load helpers

PRELOAD="$abs_top_builddir/agent/.libs/libserror-preload.so"
DOC_XML="$abs_top_srcdir/doc/libvirt-domain-serror.xml"
# The path the example names, which the test swaps for its own copy.
DOC_PRELOAD=/usr/lib/aarch64-linux-gnu/serror/libserror-preload.so
DOMAIN=serror-bats-libvirt
DOMAIN_UUID=6b1e5ac1-0d1f-4a55-9d3e-2f5a8c0b7e12
VIRSH=(virsh --quiet -c qemu:///system)

setup() {
        [ "$(id -u)" = 0 ] || skip "starts libvirtd's system instance: needs root"
        for tool in virsh libvirtd virtlogd qemu-system-x86_64; do
                command -v "$tool" >/dev/null || skip "$tool is not installed (tools/setup-debian installs libvirt)"
        done
        [ "$(uname -m)" = x86_64 ] || skip "the domain here is an emulated x86_64 one"
        readelf -d "$PRELOAD" | grep -q 'NEEDED.*libasan' &&
                skip "a sanitizer build's preload needs its runtime preloaded first, which the README's XML does not do"
        STARTED=
        if ! "${VIRSH[@]}" version >/dev/null 2>&1; then
                # Daemons must not keep bats's descriptors open: bats waits for them.
                virtlogd --daemon </dev/null >/dev/null 2>&1 3>&-
                libvirtd --daemon </dev/null >/dev/null 2>&1 3>&-
                STARTED=1
                wait_until 100 "${VIRSH[@]}" version || fail "libvirtd did not come up"
        fi
        # libvirt's QEMU user must be able to map the library: a directory of its own, open to all.
        LIBDIR=$(mktemp -d /tmp/serror-libvirt.XXXXXX)
        chmod 755 "$LIBDIR"
        cp "$PRELOAD" "$LIBDIR/libserror-preload.so"
        chmod 644 "$LIBDIR/libserror-preload.so"
}

teardown() {
        "${VIRSH[@]}" destroy "$DOMAIN" >/dev/null 2>&1 || true
        if [ -n "${STARTED:-}" ]; then
                kill "$(cat /run/libvirtd.pid)" "$(cat /run/virtlogd.pid)" 2>/dev/null || true
        fi
        rm -rf "${LIBDIR:-/nonexistent}"
}

qemu_pid() {
        cat "/run/libvirt/qemu/$DOMAIN.pid"
}

@test "a domain with the example's <qemu:commandline> runs QEMU as libvirt's user, sandboxed, with the preload loaded and its variables set" {
        grep -q "<qemu:env name='LD_PRELOAD' value='$DOC_PRELOAD'/>" "$DOC_XML" ||
                fail "the example no longer names $DOC_PRELOAD; update this test with it"
        # The example's own lines, with only the library's path changed.
        commandline=$(sed -n '/^ *<qemu:commandline>/,/^ *<\/qemu:commandline>/p' "$DOC_XML" |
                sed "s|$DOC_PRELOAD|$LIBDIR/libserror-preload.so|")
        cat >"$BATS_TEST_TMPDIR/domain.xml" <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$DOMAIN</name>
  <uuid>$DOMAIN_UUID</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>$(command -v qemu-system-x86_64)</emulator></devices>
$commandline
</domain>
EOF
        run "${VIRSH[@]}" create "$BATS_TEST_TMPDIR/domain.xml"
        assert_success
        wait_until 50 test -s "/run/libvirt/qemu/$DOMAIN.pid"
        pid=$(qemu_pid)

        # The loader mapped it into QEMU, which libvirt runs as its own user with its seccomp sandbox on.
        grep -q "$LIBDIR/libserror-preload.so" "/proc/$pid/maps" || fail "QEMU did not load the preload: $(cat "/var/log/libvirt/qemu/$DOMAIN.log")"
        [ "$(ps -o user= -p "$pid")" != root ] || fail "libvirt ran QEMU as root"
        tr '\0' '\n' <"/proc/$pid/cmdline" >"$BATS_TEST_TMPDIR/cmdline"
        grep -qx -- "-sandbox" "$BATS_TEST_TMPDIR/cmdline"
        # What the preload names the VM from: libvirt's -name guest=DOMAIN and -uuid.
        grep -qx -- "guest=$DOMAIN,debug-threads=on" "$BATS_TEST_TMPDIR/cmdline"
        grep -qx -- "$DOMAIN_UUID" "$BATS_TEST_TMPDIR/cmdline"
        # The variables reached it (its environment block keeps them; the
        # preload only takes itself out of what children inherit).
        tr '\0' '\n' <"/proc/$pid/environ" >"$BATS_TEST_TMPDIR/environ"
        grep -qx "LD_PRELOAD=$LIBDIR/libserror-preload.so" "$BATS_TEST_TMPDIR/environ"
        grep -qx "SERROR_VM_LABELS=role=db" "$BATS_TEST_TMPDIR/environ"

        # Emulated, it makes no vcpu, so the preload says nothing and QEMU runs on under the sandbox.
        sleep 1
        [ "$("${VIRSH[@]}" domstate "$DOMAIN")" = running ]
        run grep -e "^serror-preload:" -e "cannot be preloaded" "/var/log/libvirt/qemu/$DOMAIN.log"
        assert_failure
}
