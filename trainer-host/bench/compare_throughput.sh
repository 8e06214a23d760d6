#!/usr/bin/env bash
# Supernet training throughput, tabnas vs PyTorch, side by side in one run on this CPU:
# same network, batch, optimizer and threads. Creates its own PyTorch venv (a large
# download: PyPI's default torch wheel with its CUDA dependencies; it runs on the CPU).
# Usage: trainer-host/bench/compare_throughput.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${1:-2}"
cache="${TABNAS_CACHE:-$HOME/.cache/tabnas}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
venv="${TABNAS_TORCH_VENV:-$cache/torch-venv}"
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check torch numpy
fi
ours=$(cargo bench --locked -q -p tabnas-trainer --bench train_throughput -- --threads "$threads")
theirs=$("$venv/bin/python" trainer-host/bench/pytorch_throughput.py --threads "$threads")
echo "$ours"
echo "$theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for k in ("full_width_examples_per_s", "random_child_examples_per_s"):
    print(f"{k}: tabnas {a[k]:.0f} / pytorch {b[k]:.0f} = {a[k] / b[k]:.2f}x")
PY
