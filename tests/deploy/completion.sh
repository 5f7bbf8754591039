#!/bin/bash
# Deployment tier: the bash completion for serrorctl, driven as readline would drive it (no container needed).
set -u
: "${abs_top_srcdir:?run through make check}"
bash_completion=/usr/share/bash-completion/bash_completion
if [ ! -r "$bash_completion" ]; then
        echo "SKIP: bash-completion is not installed (tests/deploy/setup-host installs it)"
        exit 77
fi

# serrorctl and busctl stand-ins: a running serrord with two VMs attached.
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
cat >"$fake/busctl" <<'FAKE'
#!/bin/sh
echo "b true"
FAKE
cat >"$fake/serrorctl" <<'FAKE'
#!/bin/sh
case "$*" in
"list --json=short") echo '[{"name":"web-1"},{"name":"db-2"}]' ;;
"--no-legend list") printf 'web-1 - 100 x86_64 0 - -\ndb-2 - 101 x86_64 0-1 - -\n' ;;
"--no-legend policy list") printf 'storm running\n' ;;
esac
FAKE
chmod +x "$fake/busctl" "$fake/serrorctl"
export PATH="$fake:$PATH"

# shellcheck disable=SC1090
. "$bash_completion"
. "$abs_top_srcdir/shell-completion/bash/serrorctl"

failed=0
# complete_line LINE: what completing the last word of LINE offers, sorted, one line.
complete_line() {
        local line=$1
        COMP_LINE=$line
        COMP_POINT=${#line}
        read -r -a COMP_WORDS <<<"$line"
        [[ $line == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _serrorctl serrorctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {
        local line=$1 want=$2 got
        got=$(complete_line "$line")
        if [ "$got" = "$want" ]; then
                echo "ok - '$line' completes to: $want"
        else
                echo "not ok - '$line' completes to: $got (expected: $want)"
                failed=1
        fi
}

# expect_has LINE WORD...: the offer includes each WORD.
expect_has() {
        local line=$1 got w
        shift
        got=" $(complete_line "$line") "
        for w in "$@"; do
                if [[ $got != *" $w "* ]]; then
                        echo "not ok - '$line' does not offer $w (offers:$got)"
                        failed=1
                        return
                fi
        done
        echo "ok - '$line' offers $*"
}

expect_has "serrorctl " status list attach detach decode encode help inject history monitor policy stop-all
expect "serrorctl in" "inject"
expect "serrorctl st" "status stop-all"
expect_has "serrorctl --" --help --version --json --no-legend
expect "serrorctl inject " "db-2 web-1"
expect "serrorctl detach w" "web-1"
expect_has "serrorctl attach --" --pid --name --labels --helper-log --json
expect "serrorctl history --vm " "db-2 web-1"
expect "serrorctl inject web-1 ue" "ueo uer ueu"
expect "serrorctl inject web-1 sr" "srao srar"
expect_has "serrorctl inject web-1 --" --vcpu --on-pending --timeout --no-wait --dry-run --json
expect "serrorctl inject web-1 uer --on-pending " "defer merge skip"
expect "serrorctl inject --vcpu all web-1 uer --on-pending d" "defer"
expect "serrorctl encode aet" "aet="
expect "serrorctl --json=" "off pretty short"
expect "serrorctl list --json=p" "pretty"
# --json's value is optional: after a space comes the next word, not a mode.
expect "serrorctl list --json " ""
expect "serrorctl policy " "list load plan reload show start stop unload validate"
expect_has "serrorctl policy plan --" --seed --for --vm --json
expect "serrorctl policy stop " "storm"
expect "serrorctl policy unload s" "storm"
expect "serrorctl help in" "inject"
expect "serrorctl status " ""
expect "serrorctl inject web-1 uer --timeout=" "100ms 1min 1s 30s 500ms 5s"
exit "$failed"
