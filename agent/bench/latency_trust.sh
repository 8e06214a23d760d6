#!/usr/bin/env bash
# Can the latency the agent measures be trusted? A bench script (not a test: it times
# things on this machine and prints what it saw). Run from anywhere:
#
#   agent/bench/latency_trust.sh [RUNS]        (default 20)
#
# 1. RUNS consecutive runs of the README's main command (`tabnas-agent search`, no
#    flags, each in a new run folder): every run must succeed; its answer is measured
#    again in a fresh process (`tabnas-agent measure`) against its target.
# 2. The latency model of the first 10 runs: the held-out error (MAPE) of the form used
#    and of every form compared on the same children.
# 3. Fresh processes: the smallest, a middle and the largest child of the demo bundle,
#    each timed in its own process, 5 rounds in a shuffled order: latency must grow
#    with the multiply-accumulates; the slowest over the fastest is the space's range.
# 4. A latency / accuracy table at four targets: the answer (the best of the 8 most
#    probable feasible children that re-measures under the target) beside the paper's
#    answer (the most probable feasible child) of the same run.
cd "$(dirname "$0")/../.."
source scripts/lib.sh
runs="${1:-20}"
cargo build --release --locked -p tabnas-agent >&2
agent="$(target_dir)/release/tabnas-agent"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"

echo "== 1. $runs consecutive runs of: tabnas-agent search"
failed=0
for i in $(seq 1 "$runs"); do
  if ! "$agent" search --out "$work/run$i" --quiet >"$work/run$i.log" 2>&1; then
    failed=$((failed + 1))
    echo "run $i FAILED:"; tail -3 "$work/run$i.log"
    continue
  fi
  widths=$(python3 -c "import json,sys; print('-'.join(map(str, json.load(open(sys.argv[1]))['architecture'])))" "$work/run$i/result.json")
  "$agent" measure --widths "$widths" >"$work/re$i.txt"
done
python3 - "$work" "$runs" "$failed" <<'PY'
import json, os, statistics, sys
work, runs, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"succeeded: {runs - failed} of {runs}")
print("run | target us | answer | measured us (in run) | re-measured us (fresh process) | under target | model | held-out MAPE")
mapes, forms, under = [], {}, 0
for i in range(1, runs + 1):
    p = os.path.join(work, f"run{i}", "result.json")
    if not os.path.exists(p):
        continue
    r = json.load(open(p))
    text = open(os.path.join(work, f"re{i}.txt")).read()
    again = json.loads(text.split("\nnoise floor:")[0])["latency_us"]
    m = r["table"]["model"]
    ok = r["latency_us"] <= r["target_us"]
    under += ok
    if i <= 10:
        mapes.append(m["score"]["holdout_mape"])
        for s in m["scores"]:
            forms.setdefault(s["form"], []).append(s["holdout_mape"])
    print(f"{i} | {r['target_us']:.2f} | {'-'.join(map(str, r['architecture']))} | {r['latency_us']:.2f} | "
          f"{again:.2f} | {'yes' if ok else 'NO'} | {m['form']} | {100 * m['score']['holdout_mape']:.1f}%")
print(f"answers measured under their target in the run: {under} of {runs - failed}")
print("== 2. latency model, first 10 runs")
print(f"held-out MAPE of the form used: {', '.join(f'{100 * x:.1f}%' for x in mapes)}")
print(f"  at most 5%: {sum(x <= 0.05 for x in mapes)} of {len(mapes)}; median {100 * statistics.median(mapes):.1f}%")
for form, xs in forms.items():
    print(f"  {form}: median {100 * statistics.median(xs):.1f}%, range {100 * min(xs):.1f}-{100 * max(xs):.1f}% over {len(xs)} runs")
PY

echo "== 3. fresh processes: smallest, middle, largest child, 5 shuffled rounds"
for round in 1 2 3 4 5; do
  for w in $(printf '%s\n' 8-8-8 128-128-128 768-768-768 | shuf); do
    us=$("$agent" measure --widths "$w" | python3 -c "import json,sys; print(json.loads(sys.stdin.read().split('\nnoise floor:')[0])['latency_us'])")
    echo "$round $w $us" >>"$work/fresh.txt"
  done
done
python3 - "$work/fresh.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
macs = {"8-8-8": 28*8 + 8*8 + 8*8 + 8, "128-128-128": 28*128 + 2*128*128 + 128, "768-768-768": 28*768 + 2*768*768 + 768}
by_round = {}
for r, w, us in rows:
    by_round.setdefault(r, {})[w] = float(us)
monotone = 0
for r, m in sorted(by_round.items()):
    order = sorted(m, key=lambda w: macs[w])
    inc = all(m[a] < m[b] for a, b in zip(order, order[1:]))
    monotone += inc
    print(f"round {r}: " + ", ".join(f"{w} {m[w]:.2f} us" for w in order) + ("" if inc else "  NOT increasing"))
print(f"latency increases with MACs in {monotone} of {len(by_round)} rounds")
med = {w: statistics.median(m[w] for m in by_round.values()) for w in macs}
print(f"slowest / fastest (medians): {med['768-768-768'] / med['8-8-8']:.1f}x")
open(sys.argv[1] + ".fastest", "w").write(str(med["8-8-8"]))
PY

echo "== 4. four targets: the answer (best of the 8 most probable feasible children) beside the paper's (the most probable), in the same run"
fastest=$(cat "$work/fresh.txt.fastest")
echo "target us | answer | measured us | validation loss | params | paper's answer | its validation loss | its predicted us"
for factor in 1.15 1.5 2.5 5; do
  target=$(python3 -c "print(round($fastest * $factor, 2))")
  out="$work/t$factor"
  "$agent" search --target-us "$target" --out "$out" --quiet >"$out.log" 2>&1 \
    || { echo "$target | FAILED: $(tail -1 "$out.log")"; continue; }
  python3 - "$out/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["paper_answer"]
print(f"{r['target_us']:.2f} | {'-'.join(map(str, r['architecture']))} | {r['latency_us']:.2f} | {r['validation_loss']:.4f} | "
      f"{r['params']} | {'-'.join(map(str, p['widths']))} | {p['validation_loss']:.4f} | {p['predicted_us']:.2f}")
PY
done
