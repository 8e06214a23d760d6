#!/usr/bin/env bash
# Regenerates the committed demo bundle models/higgs-demo from real HIGGS rows:
# fetches the data (scripts/fetch_data.py), runs a host TabNAS search with a fixed seed,
# and exports the checked bundle. Run from the repository root.
cd "$(dirname "$0")/.."
source scripts/lib.sh
cache="${TABNAS_CACHE:-$HOME/.cache/tabnas}"
export TABNAS_DATA_DIR="${TABNAS_DATA_DIR:-$cache/data}"
python3 scripts/fetch_data.py higgs --dir "$TABNAS_DATA_DIR"
cargo build --release --locked -p tabnas-trainer --bin tabnas
tabnas="$(target_dir)/release/tabnas"
run=".cache/runs/higgs-demo"
"$tabnas" search --dataset higgs --name higgs-demo \
  --widths 8,16,32,64,96,128,192,256,384,512,768 --layers 3 \
  --resource params --target 60000 --steps 1000 --batch 128 --lr 1e-4 --seed 0 \
  --reference found --reference 8-8-8 --reference 64-64-64 --reference 768-768-768 \
  --bundle-valid-rows 1500 --out "$run" --quiet
# Exported into the run folder, then copied: exporting into models/higgs-demo itself
# would set the committed files aside there and leave the run folder's lock behind.
rm -rf "$run/export"
"$tabnas" export --bundle "$run/bundle" --out "$run/export"
cp "$run/export/supernet.onnx" "$run/export/manifest.json" "$run/export/valid.bin" models/higgs-demo/
python3 - "$run/result.json" models/higgs-demo/search-result.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["trace"] = f"{len(r['trace'])} controller steps (omitted here; see the run folder)"
r["distributions"] = r["distributions"][-1:]
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
cp "$run/trace.svg" models/higgs-demo/trace.svg
du -shL models/higgs-demo
