#!/usr/bin/env bats
# The fuzzers' committed seeds (tests/fuzz/corpus): current with the encoder and the example policies, and read by run-fuzzers.

load helpers

CORPUS="$abs_top_srcdir/tests/fuzz/corpus"

# sha256 of every file under $1, one line each, in a fixed order.
tree_digest() {
        (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}

@test "every fuzzer has seeds" {
        for source in "$abs_top_srcdir"/tests/fuzz/fuzz-*.c; do
                name=$(basename "$source" .c)
                [ -n "$(find "$CORPUS/$name" -type f -size +0 2>/dev/null)" ] || fail "no seeds in tests/fuzz/corpus/$name"
        done
}

@test "the attach seeds are what the encoder writes today (make fuzz-corpus remakes them)" {
        mkdir "$BATS_TEST_TMPDIR/attach"
        run "$abs_top_builddir/tests/fuzz/gen-attach-corpus" "$BATS_TEST_TMPDIR/attach"
        assert_success
        run diff -r "$BATS_TEST_TMPDIR/attach" "$CORPUS/fuzz-attach-proto"
        assert_success
        # One record of every message type the protocol has.
        [ "$(find "$CORPUS/fuzz-attach-proto" -type f | wc -l)" -eq 9 ]
}

@test "the policy seeds hold every example policy, unchanged" {
        for policy in "$abs_top_srcdir"/policies/*.json; do
                cmp "$policy" "$CORPUS/fuzz-policy/$(basename "$policy")" ||
                        fail "tests/fuzz/corpus/fuzz-policy lacks policies/$(basename "$policy") as it is now"
        done
}

@test "run-fuzzers starts from the committed seeds and leaves them as they were" {
        before=$(tree_digest "$CORPUS")
        seeds=$(find "$CORPUS/fuzz-attach-proto" -type f -size +0 | wc -l)
        FUZZ_BUILD_DIR="$BATS_TEST_TMPDIR/fuzz" FUZZERS=fuzz-attach-proto run "$abs_top_srcdir/tests/fuzz/run-fuzzers" 1
        [ "$status" -ne 77 ] || skip "run-fuzzers cannot build with libFuzzer here: $output"
        assert_success
        assert_line --regexp "^ok   fuzz-attach-proto: [0-9]+ runs from $seeds seed and corpus files, no crash$"
        # libFuzzer writes what it finds to the first corpus directory only: the build tree's.
        [ -n "$(ls "$BATS_TEST_TMPDIR/fuzz/corpus/fuzz-attach-proto")" ]
        [ "$(tree_digest "$CORPUS")" = "$before" ] || fail "run-fuzzers changed tests/fuzz/corpus"
}
