#!/usr/bin/env bash
# The README's "Results from a board" commands, run as a user would (CI runs this from
# scripts/test.sh): an agent serving the demo bundle over a pseudo-terminal and HTTP,
# the best architecture and its ONNX fetched both ways with `tabnas device`, and a
# hardware-in-the-loop `tabnas search --latency-from` against it. --fake-latency keeps
# it fast and deterministic; drop it on a real board.
set -euo pipefail
cd "$(dirname "$0")/.."
T="${CARGO_TARGET_DIR:-target}/release"
cargo build --release --locked -q -p tabnas-agent --bin tabnas-agent -p tabnas-trainer --bin tabnas
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
cd "$W"

# The README's port is 8080; here a free one, so that a busy 8080 does not fail CI.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# --- README: serve ---------------------------------------------------------------
head -c 24 /dev/urandom | base64 > token && chmod 600 token
"$T/tabnas-agent" serve --http 127.0.0.1:$PORT --serial pty --token-file token \
    --fake-latency --start > agent.log &
for _ in $(seq 100); do grep -q '^serial on' agent.log && break; sleep 0.1; done
PTY=$(sed -n 's/^serial on \([^ ]*\).*/\1/p' agent.log)
"$T/tabnas" device --http http://127.0.0.1:$PORT wait
"$T/tabnas" device --http http://127.0.0.1:$PORT best
"$T/tabnas" device --http http://127.0.0.1:$PORT fetch-onnx --out best-http.onnx
"$T/tabnas" device --serial "$PTY" best
"$T/tabnas" device --serial "$PTY" fetch-onnx --out best-serial.onnx
cmp best-http.onnx best-serial.onnx
"$T/tabnas" device --http http://127.0.0.1:$PORT --token-file token measure --widths 64-32-16
# --- README: hardware in the loop -------------------------------------------------
# The board serves the bundle of this data (the demo bundle was trained on the HIGGS
# rows fetched by scripts/fetch_data.py, 28 inputs); the host trains, the board's
# calibrated latency table limits the search.
W3="8,16,32,64,96,128,192,256,384,512,768"; SPACE="$W3;$W3;$W3"   # the demo bundle's space
"$T/tabnas" search --dataset higgs --max-rows 4000 --space "$SPACE" \
    --latency-from http://127.0.0.1:$PORT --target 30 --steps 200 --out hil --quiet
python3 -c 'import json,sys; r=json.load(open("hil/result.json")); print("hil:", r["architecture"], r["cost"], r["latency_source"]); sys.exit(0 if r["resource"]=="latency-us" and r["cost"]<=30 else 1)'
echo "serve demo: OK"
