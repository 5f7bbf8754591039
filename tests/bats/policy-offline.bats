#!/usr/bin/env bats
# serrorctl policy validate and plan, offline: every example policy validates and plans, and bad ones teach.

load helpers

# shellcheck disable=SC2154 # make check sets abs_top_srcdir; helpers.bash insists on it
POLICIES="$abs_top_srcdir/policies"
DATA="$abs_top_srcdir/tests/bats/data"

setup() {
        # No daemon and no bus: these commands must work without either.
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BATS_TEST_TMPDIR/no-bus-here"
}

# The --vm options each example needs: globs and labels name no VM by themselves.
example_vms() {
        case $1 in
        interval-ce-jitter.json) echo "--vm web-1:2 --vm web-2:8 --vm db-1" ;;
        poisson-mix.json) echo "--vm chaos-1:2,env=chaos --vm prod-1:4,env=prod" ;;
        burst-labels.json) echo "--vm worker-1:2,env=staging --vm worker-2,env=staging --vm worker-3,env=prod" ;;
        stop-on-resets.json) echo "--vm chaos-1:2,env=chaos --vm chaos-2:2,env=chaos --vm chaos-3,env=chaos" ;;
        *) echo "" ;;
        esac
}

@test "every example policy is valid" {
        local file n=0
        for file in "$POLICIES"/*.json; do
                run serrorctl policy validate "$file"
                assert_success
                assert_output --regexp "^$file: valid policy \"[A-Za-z0-9._-]+\"$"
                n=$((n + 1))
        done
        ((n >= 5)) || fail "only $n example policies"
        run serrorctl policy validate "$POLICIES"/*.json
        assert_success
        assert_equal "${#lines[@]}" "$n"
}

@test "the examples cover every schedule, every target selector, a mix and structured fields" {
        run jq -rs '[.[].schedule | if .type == "once" then (if .at then "once-at" else "once-after" end) else .type end] | unique | join(" ")' "$POLICIES"/*.json
        assert_output "burst interval once-after once-at poisson"
        run jq -s '[.[].schedule | select(.type == "interval" and .jitter)] | length' "$POLICIES"/*.json
        assert_output 1
        run jq -rs '[.[].targets | keys[]] | unique | join(" ")' "$POLICIES"/*.json
        assert_output --partial "globs labels names"
        run jq -s '[.[].error | objects | .mix // empty] | length' "$POLICIES"/*.json
        assert_output 1
        run jq -s '[.. | objects | .syndrome? | objects] | length > 0' "$POLICIES"/*.json
        assert_output true
        # policies/README.md has one line per example.
        for file in "$POLICIES"/*.json; do
                grep -q "$(basename "$file")" "$POLICIES/README.md" || fail "README.md lacks $(basename "$file")"
        done
}

@test "every example plans, and the plan repeats exactly" {
        local file name filter
        for file in "$POLICIES"/*.json; do
                name=$(basename "$file")
                # Every example ends by itself: no --for.
                # shellcheck disable=SC2046 # the options are words
                run serrorctl policy plan "$file" $(example_vms "$name") --json
                assert_success
                first=$output
                [ "$(jq '.injections | length' <<<"$first")" -ge 1 ] || fail "$name plans nothing: $first"
                # shellcheck disable=SC2046
                run serrorctl policy plan "$file" $(example_vms "$name") --json --seed "$(jq -r .seed <<<"$first")"
                assert_success
                # An "at" offset counts from now, so only the rest repeats.
                filter=.injections
                jq -e .schedule.at "$file" >/dev/null && filter='[.injections[] | del(.offset_usec)]'
                [ "$(jq -c "$filter" <<<"$output")" = "$(jq -c "$filter" <<<"$first")" ] || fail "$name: plan differs"
        done
}

@test "plan: once after 30s on one of two named VMs, seed from the policy" {
        run serrorctl policy plan "$POLICIES/once-after-uer.json"
        assert_success
        assert_line --index 0 --regexp '^OFFSET +TARGET +VCPU +SYNDROME$'
        assert_line --index 1 --regexp '^30\.000000s +test-vm-2 +0 +uer$'
        assert_line "1 injection in 1 event."
        assert_line "Targets: test-vm-1:0, test-vm-2:0 (assumed from the policy's names; describe real VMs with --vm)"
        assert_line "Seed: 1 (from the policy)"
}

@test "plan: once at a wall-clock time hits vcpus 0, 2 and 3 together" {
        run serrorctl policy plan "$POLICIES/once-at-maintenance.json" --json
        assert_success
        run jq -c '[.injections[] | [.vm, .vcpu, .syndrome]]' <<<"$output"
        assert_output '[["db-primary",0,"uer,iesb"],["db-primary",2,"uer,iesb"],["db-primary",3,"uer,iesb"]]'
}

@test "plan: interval with jitter, exact offsets for a seed" {
        run serrorctl policy plan "$POLICIES/interval-ce-jitter.json" --vm web-1:2 --vm web-2:8 --vm db-1 --for 10s --no-legend
        assert_success
        assert_equal "${#lines[@]}" 5
        assert_line --index 0 --regexp '^0\.467194s +web-2 +3 +ce$'
        assert_line --index 1 --regexp '^2\.423180s +web-2 +3 +ce$'
        assert_line --index 2 --regexp '^4\.342832s +web-2 +1 +ce$'
        assert_line --index 3 --regexp '^6\.152548s +web-2 +0 +ce$'
        assert_line --index 4 --regexp '^8\.387723s +web-2 +2 +ce$'
        run serrorctl policy plan "$POLICIES/interval-ce-jitter.json" --vm web-1:2 --vm web-2:8 --for 10s --json
        run jq -c '.targets' <<<"$output"
        assert_output '[{"vm":"web-1","vcpu":0},{"vm":"web-1","vcpu":1},{"vm":"web-2","vcpu":0},{"vm":"web-2","vcpu":1},{"vm":"web-2","vcpu":2},{"vm":"web-2","vcpu":3}]'
}

@test "plan: poisson mix by label, the seed given as a string above 2^53" {
        run serrorctl policy plan "$POLICIES/poisson-mix.json" --vm chaos-1:2,env=chaos --vm prod-1:4,env=prod --for 10min --json
        assert_success
        [ "$(jq -r .seed <<<"$output")" = 18446744073709551557 ]
        [ "$(jq -r .seed_source <<<"$output")" = policy ]
        [ "$(jq -c '[.injections[].vm] | unique' <<<"$output")" = '["chaos-1"]' ]
        [ "$(jq -c '[.injections[].syndrome] | unique | sort' <<<"$output")" = '["ce","ueo,iesb","uer"]' ]
        # 0.5 per second over 10 minutes: 300 expected; a Poisson count has sd 17.
        n=$(jq '.injections | length' <<<"$output")
        ((n > 230 && n < 370)) || fail "$n events in 10 minutes at 0.5/s"
        jq -e '[.injections[].offset_usec] | . == sort' <<<"$output" >/dev/null || fail "offsets out of order"
}

@test "plan: bursts hit every staging worker vcpu, stopped by max_injections" {
        run serrorctl policy plan "$POLICIES/burst-labels.json" --vm worker-1:2,env=staging --vm worker-2,env=staging,rack=7 --vm worker-3,env=prod --json
        assert_success
        [ "$(jq '.injections | length' <<<"$output")" = 50 ]
        [ "$(jq -c '[.injections[:3][] | [.offset_usec, .vm, .vcpu]]' <<<"$output")" = '[[5000000,"worker-1",0],[5000000,"worker-1",1],[5000000,"worker-2",0]]' ]
        [ "$(jq -c '[.injections[].offset_usec] | unique | .[:6]' <<<"$output")" = '[5000000,5010000,5020000,5030000,5040000,65000000]' ]
        [ "$(jq -c '[.injections[].vm] | unique' <<<"$output")" = '["worker-1","worker-2"]' ]
        [ "$(jq -r '[.injections[].syndrome] | unique | .[]' <<<"$output")" = "ce,iesb" ]
}

@test "plan: a policy without a seed gets one, and --seed repeats the plan" {
        run serrorctl policy plan "$DATA/glob-only.json" --vm app-1:2 --vm app-2:2
        assert_success
        assert_line "Until: 1min (the policy has no end; choose a span with --for)"
        seed_line=$(grep '^Seed: ' <<<"$output")
        [[ $seed_line =~ ^Seed:\ ([0-9]+)\ \(generated:\ repeat\ this\ plan\ with\ --seed\ ([0-9]+)\)$ ]] || fail "$seed_line"
        seed=${BASH_REMATCH[1]}
        rows=$(grep 's  ' <<<"$output" | grep -v '^OFFSET')
        run serrorctl policy plan "$DATA/glob-only.json" --vm app-1:2 --vm app-2:2 --seed "$seed"
        assert_success
        assert_line "Seed: $seed (--seed)"
        [ "$(grep 's  ' <<<"$output" | grep -v '^OFFSET')" = "$rows" ]
        run serrorctl policy plan "$DATA/glob-only.json" --vm app-1:2 --seed 0x10 --for 25s --json
        assert_success
        [ "$(jq -r .seed <<<"$output")" = 16 ]
        [ "$(jq -r .until_usec <<<"$output")" = 25000000 ]
        [ "$(jq '[.injections[] | select(.vm != "app-1" or .vcpu > 1)] | length' <<<"$output")" = 0 ]
}

@test "validate: every problem, one line each, with file, line, column and path" {
        cd "$DATA"
        run serrorctl policy validate bad-many.json
        assert_failure 2
        assert_equal "${#lines[@]}" 6
        assert_line --index 0 'bad-many.json:2:3: .name: "many problems" is not a valid policy name: use 1 to 64 characters from A-Z a-z 0-9 - _ ., starting with a letter or digit'
        assert_line --index 1 'bad-many.json:3:35: .targets.vcpus: range 5-3 is empty'
        assert_line --index 2 --partial "bad-many.json:7:9: .error.mix[1].syndrome: unknown syndrome field 'uerr'"
        assert_line --index 3 'bad-many.json:8:27: .error.mix[2].weight: expected a positive integer, got "x"'
        assert_line --index 4 'bad-many.json:11:36: .schedule.rate: must be > 0, got -1'
        assert_line --index 5 'bad-many.json:12:3: .sead: unknown key; did you mean "seed"?'
}

@test "validate: targets that can never match" {
        cd "$DATA"
        run serrorctl policy validate bad-targets.json
        assert_failure 2
        assert_line 'bad-targets.json:4:5: .targets.names: an empty list can never match: name at least one VM, or remove the key'
        assert_line "bad-targets.json:5:15: .targets.globs[0]: \"web *\" can never match: ' ' cannot appear in a VM name"
        assert_line "bad-targets.json:5:24: .targets.globs[1]: \"[ab\" can never match: its '[' at offset 0 is never closed"
        assert_line 'bad-targets.json:6:17: .targets.labels.env: expected a label value (a string), got 3'
        assert_line 'bad-targets.json:7:18: .targets.vcpus[1]: "all" cannot be part of a list: write "vcpus": "all"'
        assert_line --partial 'bad-targets.json:8:5: .targets.pick: expected "one"'
}

@test "validate: schedule, syndrome field and seed problems" {
        cd "$DATA"
        run serrorctl policy validate bad-schedule.json
        assert_failure 2
        assert_line 'bad-schedule.json:4:42: .error.syndrome.iesb: expected true or false, got "yes"'
        assert_line 'bad-schedule.json:5:53: .schedule.jitter: must be less than the period (1s), got 2s'
        assert_line 'bad-schedule.json:5:69: .schedule.rate: does not apply to schedule type "interval", only to "poisson" (known here: type, period, jitter)'
        assert_line 'bad-schedule.json:6:3: .start_delay: 1min is not before the end of "duration" (30s): nothing would ever run'
        assert_line --partial 'bad-schedule.json:8:3: .seed: expected an unsigned 64-bit integer'
}

@test "validate: a JSON syntax error names its line and column" {
        cd "$DATA"
        run serrorctl policy validate bad-syntax.json
        assert_failure 2
        assert_output "bad-syntax.json:4:3: JSON syntax error: object value separator ',' expected"
}

@test "validate --json lists every error with its path" {
        run serrorctl policy validate --json "$DATA/bad-many.json" "$POLICIES/poisson-mix.json"
        assert_failure 2
        [ "$(jq -c '[.[].valid]' <<<"$output")" = '[false,true]' ]
        [ "$(jq -c '[.[0].errors[].path]' <<<"$output")" = '[".name",".targets.vcpus",".error.mix[1].syndrome",".error.mix[2].weight",".schedule.rate",".sead"]' ]
        [ "$(jq -c '.[0].errors[4]' <<<"$output")" = '{"line":11,"column":36,"path":".schedule.rate","message":"must be > 0, got -1"}' ]
        [ "$(jq -r '.[1].policy' <<<"$output")" = chaos-mix ]
        [ "$(jq -c '.[1].errors' <<<"$output")" = '[]' ]
}

@test "validate: exit 0 only when all are valid, 2 when one is invalid, 1 when one cannot be read" {
        run serrorctl policy validate "$POLICIES/burst-labels.json" "$DATA/bad-syntax.json"
        assert_failure 2
        assert_line "$POLICIES/burst-labels.json: valid policy \"worker-bursts\""
        run serrorctl policy validate "$BATS_TEST_TMPDIR/missing.json" "$DATA/bad-syntax.json"
        assert_failure 1
        assert_line "$BATS_TEST_TMPDIR/missing.json: cannot read: No such file or directory"
        run serrorctl policy validate "$DATA"
        assert_failure 1
        assert_output "$DATA: cannot read: Is a directory"
        head -c 1048577 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big.json"
        run serrorctl policy validate "$BATS_TEST_TMPDIR/big.json"
        assert_failure 2
        assert_output "$BATS_TEST_TMPDIR/big.json: .: the policy is 1048577 bytes long, at most 1048576 allowed"
        # Through a pipe the size is not known up front.
        run bash -c 'cat "$1" | "$2" policy validate /dev/stdin' - "$BATS_TEST_TMPDIR/big.json" "$SERRORCTL"
        assert_failure 2
        assert_output "/dev/stdin: .: the policy is longer than the 1048576 bytes allowed"
        run bash -c 'cat "$1" | "$2" policy validate /dev/stdin' - "$POLICIES/poisson-mix.json" "$SERRORCTL"
        assert_success
        assert_output '/dev/stdin: valid policy "chaos-mix"'
}

@test "plan refuses what it cannot plan, with one clear line" {
        run serrorctl policy plan "$DATA/bad-many.json"
        assert_failure 2
        assert_line --index 1 --partial ".targets.vcpus: range 5-3 is empty"
        run serrorctl policy plan "$DATA/glob-only.json"
        assert_failure 2
        assert_output "serrorctl: policy \"glob-only\" selects VMs by glob only, so plan cannot guess which VMs exist: describe them with --vm NAME[:VCPUS][,KEY=VALUE...]"
        run serrorctl policy plan "$DATA/glob-only.json" --vm db-1:4
        assert_failure 2
        assert_output "serrorctl: no vcpu of the --vm VMs matches the targets of policy \"glob-only\""
        run serrorctl policy plan "$DATA/glob-only.json" --vm 'app 1'
        assert_failure 2
        assert_output --partial "invalid --vm 'app 1'"
        run serrorctl policy plan "$DATA/glob-only.json" --vm app-1,env
        assert_failure 2
        assert_output "serrorctl: invalid --vm 'app-1,env': label 'env' is not KEY=VALUE"
        run serrorctl policy plan "$DATA/glob-only.json" --seed -1
        assert_failure 2
        assert_output "serrorctl: invalid --seed '-1': expected a decimal or 0x hexadecimal number below 2^64"
        run serrorctl policy plan "$DATA/glob-only.json" --for 0
        assert_failure 2
        assert_output "serrorctl: invalid --for '0': expected a duration above 0 such as 30s, 5min or 2h"
}

@test "policy usage errors" {
        run serrorctl policy
        assert_failure 2
        assert_output "serrorctl: 'policy' needs COMMAND ... (see serrorctl policy --help)"
        run serrorctl policy frob x
        assert_failure 2
        assert_output "serrorctl: unknown policy command 'frob' (known: validate, plan, load, start, stop, unload, list, show, reload; see serrorctl policy --help)"
        run serrorctl policy validate
        assert_failure 2
        assert_output "serrorctl: 'policy validate' needs FILE... (see serrorctl policy --help)"
        run serrorctl policy plan a.json b.json
        assert_failure 2
        assert_output "serrorctl: 'policy plan' takes only FILE, got unexpected 'b.json'"
        run serrorctl policy --help
        assert_success
        assert_line --index 0 "Usage: serrorctl policy COMMAND ..."
        assert_output --partial "--vm=NAME[:VCPUS][,KEY=VALUE...]"
}

@test "plan: x86 machine checks in a policy, alone and in a mix; a wrong one names the field" {
        cat >"$BATS_TEST_TMPDIR/mce.json" <<'JSON'
{
  "name": "x86-mce",
  "targets": { "names": ["x86-1"], "vcpus": [0] },
  "error": { "mix": [ { "syndrome": "mce:ce", "weight": 1 }, { "syndrome": "srar,bank=3", "weight": 1 } ] },
  "schedule": { "type": "burst", "count": 20, "spacing": "1s" },
  "seed": 7
}
JSON
        run serrorctl policy validate "$BATS_TEST_TMPDIR/mce.json"
        assert_success
        run serrorctl policy plan "$BATS_TEST_TMPDIR/mce.json" --json
        assert_success
        [ "$(jq -c '[.injections[].syndrome] | unique' <<<"$output")" = \
                '["mce:status=0x9c00000000000001,bank=1,addr=0x0,misc=0x0,mcg=0x0","mce:status=0xbd80000000000134,bank=3,addr=0x0,misc=0x0,mcg=0x7"]' ]
        # A machine check has no ISS.
        [ "$(jq -c '[.injections[] | has("iss")] | unique' <<<"$output")" = '[false]' ]

        sed -i 's/"srar,bank=3"/"srar,bank=40"/' "$BATS_TEST_TMPDIR/mce.json"
        run serrorctl policy validate "$BATS_TEST_TMPDIR/mce.json"
        assert_failure 2
        assert_output --partial ".error.mix[1].syndrome"
        assert_output --partial "bank"
}
