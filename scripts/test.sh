#!/usr/bin/env bash
# The project's test command (README): every test of the workspace, in release mode
# because the statistical tests run hundreds of seeded searches.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tabnas/target}"
cargo test --workspace --release --locked "$@"
