#!/usr/bin/env python3
"""Cross-checks tabnas ONNX files with the reference tools: onnx.checker and onnxruntime.

Usage: onnx_crosscheck.py CASE.json [CASE.json ...]

Each case file names an ONNX model and holds inputs and the trainer's outputs:
  {"model": "path.onnx", "rows": R, "numeric": [R*n_num floats], "n_num": n,
   "categorical": [R*n_cat ints], "n_cat": c, "expected": [R*k floats], "outputs": k,
   "tolerance": 1e-5}
Prints one JSON line per case and exits 1 if any check fails.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def check(case_path):
    with open(case_path) as f:
        case = json.load(f)
    model = onnx.load(case["model"])
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(case["model"], providers=["CPUExecutionProvider"])
    rows = case["rows"]
    feeds = {}
    names = [i.name for i in sess.get_inputs()]
    feeds[names[0]] = np.asarray(case["numeric"], dtype=np.float32).reshape(rows, case["n_num"])
    if case["n_cat"] > 0:
        feeds[names[1]] = np.asarray(case["categorical"], dtype=np.int64).reshape(rows, case["n_cat"])
    out = sess.run(None, feeds)[0]
    expected = np.asarray(case["expected"], dtype=np.float32).reshape(rows, case["outputs"])
    diff = float(np.max(np.abs(out - expected)))
    ok = diff <= case.get("tolerance", 1e-5)
    print(json.dumps({"model": case["model"], "checker": "ok", "onnxruntime": ort.__version__,
                      "max_abs_diff": diff, "ok": ok}))
    return ok


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    results = [check(p) for p in sys.argv[1:]]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
