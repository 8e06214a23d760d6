#!/usr/bin/env bash
# Fuzzes the decoders with cargo-fuzz (libFuzzer, address sanitizer, overflow checks on):
# the packed search configuration, the packed board configuration, manifest.json,
# valid.bin and a whole bundle from bytes (targets in fuzz/fuzz_targets/, their bodies in
# fuzz/src/lib.rs; docs/formats.md, "Fuzzing").
#
#   scripts/fuzz.sh [TARGET...] [--runs N] [--seconds S] [-- LIBFUZZER_ARGS...]
#
# TARGET: search_config, board_config, protocol_frame, http_body, manifest_json, valid_bin, bundle_bytes (default:
# all of them, one after another, one process at a time). Each stops after N inputs
# (default 1000000) or S seconds (default: no limit), whichever comes first.
#
# The committed seeds (fuzz/corpus/TARGET/) are only read; the corpus libFuzzer grows
# goes to $TABNAS_FUZZ_CORPUS/TARGET (default ~/.cache/tabnas/fuzz-corpus) and is kept
# between runs. Crashing inputs land in fuzz/artifacts/TARGET/, logs in
# $TABNAS_FUZZ_LOGS (default ~/.cache/tabnas/fuzz-logs). Builds go to
# $CARGO_TARGET_DIR when set, else fuzz/target.
#
# Prints per target the inputs executed, exec/s and whether it crashed; exits 1 if any
# target crashed (a panic, an abort, a sanitizer report, a timeout of 10 s or more than
# 2 GB of memory for one input). A crash becomes a regression test: fix the decoder so it
# returns an error, copy the input to fuzz/regressions/TARGET/, and
# `cargo test -p tabnas-bundle --test fuzz_replay` replays it from then on.
#
# cargo-fuzz is installed when missing (`cargo install cargo-fuzz --locked`). It needs
# -Z flags, so the stable toolchain runs it with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(search_config board_config protocol_frame http_body manifest_json valid_bin bundle_bytes)
runs=1000000
seconds=0
targets=()
extra=()
while (($#)); do
    case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *)
        if [[ " ${all_targets[*]} " != *" $1 "* ]]; then
            echo "fuzz.sh: unknown target '$1' (targets: ${all_targets[*]})" >&2
            exit 2
        fi
        targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
# Leaves tract's inference engine, linked but never run, without coverage counters
# (fuzz/rustc-wrapper.sh says why); this replaces any RUSTC_WRAPPER of yours. Cargo does
# not rebuild for a new wrapper: a target dir built by plain `cargo fuzz` keeps tract
# instrumented (slower, still correct) until cleaned.
export RUSTC_WRAPPER="$PWD/fuzz/rustc-wrapper.sh"
target_dir="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"
corpus_root="${TABNAS_FUZZ_CORPUS:-$HOME/.cache/tabnas/fuzz-corpus}"
log_root="${TABNAS_FUZZ_LOGS:-$HOME/.cache/tabnas/fuzz-logs}"
mkdir -p "$log_root"

cargo fuzz build --target-dir "$target_dir"

crashed=0
for t in "${targets[@]}"; do
    corpus="$corpus_root/$t"
    log="$log_root/$t.log"
    mkdir -p "$corpus"
    args=(-runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1)
    ((seconds > 0)) && args+=(-max_total_time="$seconds")
    case "$t" in
    manifest_json | bundle_bytes) args+=(-dict=fuzz/dicts/manifest.dict) ;;
    esac
    echo "==> $t (log: $log)"
    status=0
    cargo fuzz run --target-dir "$target_dir" "$t" "$corpus" "fuzz/corpus/$t" -- \
        "${args[@]}" "${extra[@]}" >"$log" 2>&1 || status=$?
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n1 || true)"
    execs="$(grep -E '^stat::number_of_executed_units:' "$log" | tail -n1 | awk '{print $2}' || true)"
    rate="$(grep -E '^stat::average_exec_per_sec:' "$log" | tail -n1 | awk '{print $2}' || true)"
    secs="$(grep -E '^Done [0-9]+ runs in' "$log" | tail -n1 | awk '{print $5}' || true)"
    if ((status != 0)); then
        crashed=1
        echo "$t: CRASH (exit $status) after ${execs:-?} inputs"
        grep -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY|Test unit written to' "$log" | head -n 8 || true
    else
        echo "$t: ${execs:-?} inputs in ${secs:-?} s (${rate:-?} exec/s), no crash"
        [[ -n "$done_line" ]] && echo "    $done_line"
    fi
done
exit "$crashed"
