#!/usr/bin/env bash
# The README's main command on a quiet machine and on a busy one, side by side (a bench
# script, not a test: it times things on this machine and prints what it saw).
#
#   agent/bench/busy_board.sh [RUNS]        (default 20)
#
# For each of two conditions — idle, and one core kept busy by another process the whole
# time (a shell busy loop) — RUNS consecutive runs of `tabnas-agent search` (the README's
# main command, no flags), each from a new empty folder (a fresh run folder). For every
# run: did it succeed; is its answer under the target in the run and when measured again
# in a fresh process (`tabnas-agent measure`); the latency model's held-out error; the
# printed fastest child against every child the run measured; the load the run recorded.
cd "$(dirname "$0")/../.."
source scripts/lib.sh
runs="${1:-20}"
cargo build --release --locked -q -p tabnas-agent --bin tabnas-agent
agent="$(target_dir)/release/tabnas-agent"
work="$(mktemp -d)"
busy_pid=
trap '[[ -n $busy_pid ]] && kill "$busy_pid" 2>/dev/null; rm -rf "$work"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"

one_condition() { # one_condition NAME: RUNS runs into $work/NAME
    local name=$1 i dir widths
    mkdir -p "$work/$name"
    for i in $(seq 1 "$runs"); do
        dir="$work/$name/$i"
        mkdir -p "$dir"
        if (cd "$dir" && "$agent" search --quiet >out.log 2>&1); then
            widths=$(python3 -c "import json,sys; print('-'.join(map(str, json.load(open(sys.argv[1]))['architecture'])))" \
                "$dir/runs/search-auto/result.json")
            (cd "$dir" && "$agent" measure --widths "$widths" --table runs/search-auto/latency_table.json >again.txt 2>&1) || true
        else
            echo "$name run $i FAILED: $(tail -1 "$dir/out.log")"
        fi
    done
}

echo "== idle: $runs runs"
one_condition idle
echo "== busy: $runs runs with one core kept busy"
sh -c 'while :; do :; done' &
busy_pid=$!
one_condition busy
kill "$busy_pid"
busy_pid=

python3 - "$work" "$runs" <<'PY'
import json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])

def measured_children(table):
    ys = [p["measured_us"] for p in table["points"]]
    if table.get("direct"):
        ys += [y for y in table["direct"]["latency_us"] if y is not None]
    return ys

summary = {}
for name in ("idle", "busy"):
    rows = []
    for i in range(1, runs + 1):
        d = os.path.join(work, name, str(i))
        p = os.path.join(d, "runs", "search-auto", "result.json")
        if not os.path.exists(p):
            rows.append(None)
            continue
        r = json.load(open(p))
        t = json.load(open(os.path.join(d, "runs", "search-auto", "latency_table.json")))
        try:
            again = json.loads(open(os.path.join(d, "again.txt")).read().split("\nnoise floor:")[0])["latency_us"]
        except Exception:
            again = float("nan")
        m = r["table"]["model"]
        load = r.get("load") or {}
        rows.append(dict(
            target=r["target_us"], answer="-".join(map(str, r["architecture"])), latency=r["latency_us"],
            again=again, form=m["form"], mape=m["score"]["holdout_mape"], fastest=r["fastest"][1],
            min_measured=min(measured_children(t)), pred=r.get("prediction") or {},
            load_end=(load.get("load_average_end") or [float("nan")])[0],
            floor=(load.get("noise_floor_start"), load.get("noise_floor_end")),
            resampled=(load.get("noise") or {}).get("resampled", 0),
        ))
    print(f"\n== {name}")
    print("run | load avg | target us | answer | in run us | fresh process us | model | held-out error | fastest us (min measured) | prediction error")
    for i, x in enumerate(rows, 1):
        if x is None:
            print(f"{i} | FAILED")
            continue
        pe = x["pred"].get("error")
        print(f"{i} | {x['load_end']:.2f} | {x['target']:.2f} | {x['answer']} | {x['latency']:.2f} | {x['again']:.2f} | "
              f"{x['form']} | {100 * x['mape']:.1f}% | {x['fastest']:.2f} ({x['min_measured']:.2f}) | "
              f"{'' if pe is None else f'{100 * pe:+.1f}%'}")
    ok = [x for x in rows if x]
    summary[name] = dict(
        succeeded=len(ok),
        under_in_run=sum(x["latency"] <= x["target"] for x in ok),
        under_fresh=sum(x["again"] <= x["target"] for x in ok),
        mape_ok=sum(x["mape"] <= 0.05 for x in ok),
        mape_median=statistics.median([x["mape"] for x in ok]) if ok else float("nan"),
        fastest_ok=sum(x["fastest"] <= x["min_measured"] + 1e-9 for x in ok),
        within=sum(bool(x["pred"].get("within")) for x in ok),
        load=statistics.median([x["load_end"] for x in ok]) if ok else float("nan"),
    )
print(f"\n== side by side ({runs} runs each)")
print("| | idle | one core busy |")
print("|---|---|---|")
s, b = summary["idle"], summary["busy"]
for key, label in [("succeeded", "runs that succeeded"), ("under_in_run", "answer under its target (in the run)"),
                   ("under_fresh", "answer under its target (fresh process)"), ("mape_ok", "held-out error at most 5%"),
                   ("fastest_ok", "printed fastest <= every child measured"), ("within", "prediction within the model's stated error")]:
    print(f"| {label} | {s[key]} | {b[key]} |")
print(f"| median held-out error | {100 * s['mape_median']:.1f}% | {100 * b['mape_median']:.1f}% |")
print(f"| median load average at the end | {s['load']:.2f} | {b['load']:.2f} |")
PY
