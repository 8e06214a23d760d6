#!/usr/bin/env bash
# Creates (once) the Python environment the cross-check tests use: onnx + onnxruntime
# + numpy, in $TABNAS_PYVENV (default ~/.cache/tabnas/pyvenv, beside the build cache).
# Prints the venv's python path.
source "$(dirname "$0")/lib.sh"
need python3 "Python 3 with pip"
venv="${TABNAS_PYVENV:-$HOME/.cache/tabnas/pyvenv}"
if ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  python3 -m venv "$venv" >&2 || {
    echo "pyvenv.sh: 'python3 -m venv' failed: install Python's venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
  }
  "$venv/bin/pip" install -q --disable-pip-version-check "onnx==1.23.2" "onnxruntime==1.32.0" "numpy<3" >&2
fi
echo "$venv/bin/python"
