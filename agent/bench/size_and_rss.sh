#!/usr/bin/env bash
# Stripped size of the tabnas-agent binary and peak memory (RSS) of a full search on
# the embedded demo bundle, on this machine.
cd "$(dirname "$0")/../.."
source scripts/lib.sh
cargo build --release --locked -q -p tabnas-agent --bin tabnas-agent
bin="$(target_dir)/release/tabnas-agent"
stripped="$(mktemp)"
strip -o "$stripped" "$bin"
echo "binary: $(stat -c %s "$bin") bytes, stripped: $(stat -c %s "$stripped") bytes"
run="$(mktemp -d)"
/usr/bin/time -v "$bin" search --out "$run" --quiet > "$run/out.txt" 2> "$run/time.txt" || true
cat "$run/out.txt"
grep -E "^error|Maximum resident set size|Elapsed" "$run/time.txt"
rm -rf "$run" "$stripped"
