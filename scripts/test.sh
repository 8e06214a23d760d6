#!/usr/bin/env bash
# The project's test command (README): fetch the small real datasets the tests read
# (sha256-checked, cached) and set up the Python cross-check venv, then every test of the workspace in release mode (the
# statistical tests run hundreds of seeded searches).
cd "$(dirname "$0")/.."
source scripts/lib.sh
need cargo "the Rust toolchain, from rustup"
need python3 "Python 3 with pip"
# Builds go where the README's main command builds (./target, or $CARGO_TARGET_DIR when
# set), so a new user compiles the project once, not twice.
export TABNAS_DATA_DIR="${TABNAS_DATA_DIR:-$HOME/.cache/tabnas/data}"
python3 scripts/fetch_data.py --dir "$TABNAS_DATA_DIR"
# onnx + onnxruntime for the export cross-checks, in a venv in the user's cache.
export TABNAS_PYVENV="${TABNAS_PYVENV:-$HOME/.cache/tabnas/pyvenv}"
TABNAS_PYTHON="$(./scripts/pyvenv.sh)"
export TABNAS_PYTHON
# Chromium and playwright-core for the dashboard test (tests/tests/dashboard.rs).
TABNAS_NODE_MODULES="$(./scripts/browser_deps.sh)"
export TABNAS_NODE_MODULES
cargo test --workspace --release --locked "$@"
# The ONNX Runtime backend (feature `ort`), with the venv's libonnxruntime.
ORT_DYLIB_PATH="$("$TABNAS_PYTHON" -c 'import glob, os, onnxruntime; print(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*"))[0])')"
export ORT_DYLIB_PATH
cargo test --release --locked -p tabnas-agent --features ort --test ort_probe "$@"
# The command blocks of the README and the docs, run as written: one shell per document,
# from the repository root (scripts/doc_commands.py; tests/README.md). They include the
# serving commands of docs/usage.md (serial over a pty, HTTP, hardware in the loop) with their
# checks: the model fetched both ways is the same, the board-limited answer meets its
# target.
python3 scripts/doc_commands.py
