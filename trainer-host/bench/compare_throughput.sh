#!/usr/bin/env bash
# Supernet training throughput, tabnas vs PyTorch, side by side in one run on this CPU:
# same network, batch, optimizer and threads. Creates its own PyTorch venv (a large
# download: PyPI's default torch wheel with its CUDA dependencies; it runs on the CPU).
# Usage: trainer-host/bench/compare_throughput.sh [THREADS]
cd "$(dirname "$0")/../.."
source scripts/lib.sh
threads="${1:-2}"
cache="${TABNAS_CACHE:-$HOME/.cache/tabnas}"
venv="${TABNAS_TORCH_VENV:-$cache/torch-venv}"
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check torch numpy
fi
# Alternate the two implementations over several rounds (this kind of machine is noisy)
# and report each round's ratio and the median.
rounds="${ROUNDS:-3}"
steps="--full-steps 100 --child-steps 300"
cargo bench --locked -q -p tabnas-trainer --bench train_throughput --no-run
results=()
for _ in $(seq "$rounds"); do
  ours=$(cargo bench --locked -q -p tabnas-trainer --bench train_throughput -- --threads "$threads" $steps)
  theirs=$("$venv/bin/python" trainer-host/bench/pytorch_throughput.py --threads "$threads" $steps)
  echo "$ours"
  echo "$theirs"
  results+=("$ours" "$theirs")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(a) for a in sys.argv[1:]]
pairs = list(zip(rows[0::2], rows[1::2]))
ours_impl, theirs_impl = pairs[0]
print(f"cpu: {ours_impl.get('cpu', 'unknown')}; tabnas kernel: {ours_impl.get('kernel', '?')}; "
      f"{theirs_impl['impl']} kernel: {theirs_impl.get('kernel', '?')}; threads {ours_impl['threads']}")
for k in ("full_width_examples_per_s", "random_child_examples_per_s"):
    ratios = [a[k] / b[k] for a, b in pairs]
    ours = [a[k] for a, _ in pairs]
    theirs = [b[k] for _, b in pairs]
    print(f"{k}: tabnas {statistics.median(ours):.0f} ({ours_impl.get('kernel', '?')}) / "
          f"pytorch {statistics.median(theirs):.0f} ({theirs_impl.get('kernel', '?')}) (medians) "
          f"on {ours_impl.get('cpu', 'unknown')}; "
          f"ratio per round {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}x")
PY
