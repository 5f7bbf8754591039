#!/usr/bin/env bats
# serrorctl decode and encode: offline syndrome arithmetic, checked against DOMAIN.md's vectors.

load helpers

setup() {
        # No daemon and no bus: these verbs must work without either.
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BATS_TEST_TMPDIR/no-bus-here"
}

@test "encode uer gives ISS 0xc11 and ESR 0xbe000c11" {
        run serrorctl encode uer
        assert_success
        assert_line --regexp '^ +ISS: 0x000c11$'
        assert_line --regexp '^ +ESR: 0xbe000c11$'
        assert_line --regexp '^ +AET: 0b011 UER '
}

@test "encode uer --json has the exact numbers" {
        run serrorctl encode uer --json
        assert_success
        [ "$(jq -r .iss_hex <<<"$output")" = 0x000c11 ]
        [ "$(jq -r .esr_hex <<<"$output")" = 0xbe000c11 ]
        [ "$(jq -r .esr <<<"$output")" = $((0xbe000c11)) ]
        [ "$(jq -r .aet_name <<<"$output")" = UER ]
        [ "$(jq -r .dfsc <<<"$output")" = 17 ]
}

@test "decode 0xbe000c11: EC SError, AET UER, DFSC asynchronous SError" {
        run serrorctl decode 0xbe000c11
        assert_success
        assert_line --regexp '^ +EC: 0x2f \(SError interrupt\)$'
        assert_line --regexp '^ +AET: 0b011 UER \(recoverable state\)$'
        assert_line --regexp '^ +DFSC: 0x11 \(asynchronous SError interrupt\)$'
        assert_line --regexp '^ +Linux guest: panics'
}

@test "decode --json 0xbe000c11 names every field" {
        run serrorctl --json decode 0xbe000c11
        assert_success
        run jq -c '[.ec_name, .ec, .il, .ids, .iesb, .ea, .aet_name, .dfsc_name, .syndrome]' <<<"$output"
        assert_output '["SError",47,1,false,false,false,"UER","async","uer"]'
}

@test "decode of a bare ISS equals decode of its ESR" {
        run serrorctl decode --json 0xc11
        assert_success
        iss_json=$output
        run serrorctl decode --json 0xbe000c11
        assert_success
        [ "$iss_json" = "$output" ]
}

@test "encode: each AET name reaches its code, with IESB and EA" {
        declare -A want=([uc]=0xbe000011 [ueu]=0xbe000411 [ueo]=0xbe000811 [uer]=0xbe000c11 [ce]=0xbe001811)
        for name in "${!want[@]}"; do
                run serrorctl encode --json "$name"
                assert_success
                [ "$(jq -r .esr_hex <<<"$output")" = "${want[$name]}" ] || fail "$name: $output"
        done
        run serrorctl encode --json aet=uer,iesb
        [ "$(jq -r .esr_hex <<<"$output")" = 0xbe002c11 ]
        run serrorctl encode --json aet=ce,ea
        [ "$(jq -r .esr_hex <<<"$output")" = 0xbe001a11 ]
        run serrorctl encode --json dfsc=uncategorized
        [ "$(jq -r .esr_hex <<<"$output")" = 0xbe000000 ]
        [ "$(jq -r .linux_guest <<<"$output")" = panic ]
        run serrorctl encode --json iss=0xc11
        [ "$(jq -r .syndrome <<<"$output")" = uer ]
}

@test "encode round-trips through decode" {
        for s in uc ueu ueo uer ce aet=uer,iesb aet=ce,ea aet=ueo,iesb,ea dfsc=uncategorized dfsc=uncategorized,ea; do
                run serrorctl encode --json "$s"
                assert_success
                esr=$(jq -r .esr_hex <<<"$output")
                canonical=$(jq -r .syndrome <<<"$output")
                run serrorctl decode --json "$esr"
                assert_success
                [ "$(jq -r .syndrome <<<"$output")" = "$canonical" ] || fail "$s -> $esr -> $output"
        done
}

@test "impdef needs --allow-ids" {
        run serrorctl encode impdef=0x123456
        assert_failure 2
        assert_output --partial "IDS"
        run serrorctl encode --allow-ids --json impdef=0x123456
        assert_success
        [ "$(jq -r .esr_hex <<<"$output")" = 0xbf123456 ]
        [ "$(jq -r .ids <<<"$output")" = true ]
}

@test "decode accepts an IDS = 1 ESR (DOMAIN.md: 0xbf000011)" {
        run serrorctl decode --json 0xbf000011
        assert_success
        [ "$(jq -r .ids <<<"$output")" = true ]
        [ "$(jq -r .impdef <<<"$output")" = 17 ]
}

@test "bad syndromes are refused with the field named" {
        run serrorctl encode aet=bogus
        assert_failure 2
        assert_output --partial "AET"
        run serrorctl encode iss=0x1011
        assert_failure 2
        assert_output --partial "reserved"
        run serrorctl encode dfsc=uncategorized,iesb
        assert_failure 2
        assert_output --partial "IESB"
        run serrorctl encode iss=0x1000c11
        assert_failure 2
        assert_output --partial "IDS"
        run serrorctl encode ''
        assert_failure 2
}

@test "decode refuses what is not an SError ESR" {
        run serrorctl decode 0x96000045
        assert_failure 2
        assert_output --partial "EC 0x25"
        run serrorctl decode 0xbc000c11
        assert_failure 2
        assert_output --partial "IL"
        run serrorctl decode 0x1be000c11
        assert_failure 2
        run serrorctl decode nonsense
        assert_failure 2
        assert_output --partial "expected a number"
}

@test "encode: the x86 machine-check presets have DOMAIN.md's measured values" {
        for spec in "srao|0xbd000000000000c0|0x5|srao" "srar|0xbd80000000000134|0x7|srar" \
                "ucna|0xbc00000000000010|0x0|ucna" "mce:ce|0x9c00000000000001|0x0|ce"; do
                IFS="|" read -r name want_status mcg class <<<"$spec"
                run serrorctl encode --json "$name"
                assert_success
                [ "$(jq -r .status <<<"$output")" = "$want_status" ] || fail "$name: status $(jq -r .status <<<"$output")"
                [ "$(jq -r .mcg_status <<<"$output")" = "$mcg" ] || fail "$name: mcg $(jq -r .mcg_status <<<"$output")"
                [ "$(jq -r .class <<<"$output")" = "$class" ]
                [ "$(jq -r .bank <<<"$output")" = 1 ]
        done
        run serrorctl encode srar
        assert_line --regexp '^   MCi_STATUS: 0xbd80000000000134$'
        assert_line --regexp '^ +VAL UC EN MISCV ADDRV S AR$'
        assert_line --regexp '^   MCG_STATUS: 0x7 RIPV EIPV MCIP$'
        # Bare ce stays the SError syndrome.
        run serrorctl encode --json ce
        [ "$(jq -r .esr_hex <<<"$output")" = 0xbe001811 ]
}

@test "encode: a machine check built from items; refusals name the item" {
        run serrorctl encode --json mce:bank=2,uc,s,ar,code=0x134,addr=0x1000,misc=0x86,ripv,eipv,mcip
        assert_success
        [ "$(jq -r .status <<<"$output")" = 0xbd80000000000134 ]
        [ "$(jq -r .addr <<<"$output")" = 0x1000 ]
        [ "$(jq -r .misc <<<"$output")" = 0x86 ]
        [ "$(jq -r .bank <<<"$output")" = 2 ]
        [ "$(jq -r .class <<<"$output")" = srar ]
        # The canonical text reads back to the same machine check.
        canon=$(jq -r .machine_check <<<"$output")
        run serrorctl encode --json "$canon"
        [ "$(jq -r .machine_check <<<"$output")" = "$canon" ]
        run serrorctl encode mce:srao,bank=40
        assert_failure 2
        assert_output "serrorctl: invalid machine check 'mce:srao,bank=40': bank 40 is beyond the 32 banks KVM supports"
        run serrorctl encode mce:ar
        assert_failure 2
        assert_output --partial "ar (action required) needs s and uc"
        run serrorctl encode mce:status=0x1c00000000000001
        assert_failure 2
        assert_output --partial "without VAL (bit 63) holds no error"
        run serrorctl decode mce:0xbd000000000000c0,mcg=0x5
        assert_success
        assert_line --regexp '^        Class: srao '
        # Without RIPV in MCG_STATUS there is no restarting: fatal.
        run serrorctl decode mce:0xbd000000000000c0
        assert_line --regexp '^        Class: fatal '
        run serrorctl decode mce:0x1d000000000000c0
        assert_failure 2
        assert_output --partial "without VAL (bit 63) holds no error"
}

@test "encode: fatal is VAL|UC|EN|PCC with EIPV|MCIP; bare presets take items" {
        run serrorctl encode --json fatal
        assert_success
        [ "$(jq -r .status <<<"$output")" = 0xb200000000000000 ]
        [ "$(jq -r .mcg_status <<<"$output")" = 0x6 ]
        [ "$(jq -r .class <<<"$output")" = fatal ]
        [ "$(jq -r '.status_bits | join(" ")' <<<"$output")" = "VAL UC EN PCC" ]
        [ "$(jq -r .raises_mc <<<"$output")" = true ]
        run serrorctl encode --json srar,bank=3,addr=0x1000,lmce
        assert_success
        [ "$(jq -r .machine_check <<<"$output")" = "mce:status=0xbd80000000000134,bank=3,addr=0x1000,misc=0x0,mcg=0xf" ]
        [ "$(jq -r '.mcg_status_bits | join(" ")' <<<"$output")" = "RIPV EIPV MCIP LMCE_S" ]
        [ "$(jq -r .code_description <<<"$output")" = "cache hierarchy: data read, data, level 0" ]
        run serrorctl encode --json ucna
        [ "$(jq -r .raises_mc <<<"$output")" = false ]
        [ "$(jq -r .code_description <<<"$output")" = "TLB: instruction, level 0" ]
}

@test "encode: the MCA error code and its fields are printed in words" {
        run serrorctl encode srao
        assert_success
        assert_line '     MCA code: 0x00c0 (memory controller: memory scrubbing, channel 0)'
        assert_line '   Model code: 0x0000'
        assert_line '     MCi_ADDR: 0x0'
        assert_line '   MCG_STATUS: 0x5 RIPV MCIP'
        assert_line '        Class: srao (software recoverable, action optional: #MC)'
        run serrorctl encode mce:uc
        assert_success
        assert_line '     MCi_ADDR: 0x0 (not valid)'
        assert_line --regexp '^        Class: ucna '
}

@test "decode: an x86 MCi_STATUS, and a hint when one is given as an ESR" {
        run serrorctl decode --json mce:0xbd80000000000134,mcg=0x7,bank=2
        assert_success
        [ "$(jq -r .class <<<"$output")" = srar ]
        [ "$(jq -r .bank <<<"$output")" = 2 ]
        [ "$(jq -r .code <<<"$output")" = $((0x134)) ]
        # The corrected error count (bits 52:38) a guest may find in a bank.
        run serrorctl decode mce:0x9c00004000000001
        assert_success
        assert_line '   Bits 52:32: corrected count 1 (with MCG_CMCI_P), other 0x00'
        assert_line --regexp '^        Class: ce '
        run serrorctl decode 0xbd000000000000c0
        assert_failure 2
        assert_output --partial "(an x86 MCi_STATUS? write mce:0xbd000000000000c0)"
        run serrorctl decode mce:srao
        assert_failure 2
        assert_output --partial "invalid status='srao'"
}

@test "encode: more machine-check refusals name the item" {
        run serrorctl encode mce:ce,ripv
        assert_failure 2
        assert_output --partial "mcg 0x1 with a corrected error: KVM writes MCG_STATUS only for an uncorrected one"
        run serrorctl encode srao,foo
        assert_failure 2
        assert_output --partial "unknown item 'foo'"
        run serrorctl encode mce:uc,srao
        assert_failure 2
        assert_output --partial "the preset 'srao' must come first"
        run serrorctl encode mce:addr=0x1000,status=0xb000000000000000
        assert_failure 2
        assert_output --partial "addr 0x1000 with a status whose ADDRV (bit 58) is clear"
        # An SError name after a machine-check preset is an unknown item, not an SError.
        run serrorctl encode srao,uer
        assert_failure 2
        assert_output --partial "unknown item 'uer'"
}
