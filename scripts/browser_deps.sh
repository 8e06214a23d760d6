#!/usr/bin/env bash
# What the dashboard test drives (tests/tests/dashboard.rs): Debian's Chromium, installed
# when missing, and playwright-core from npm into ~/.cache/tabnas/node (kept between
# runs). Prints the node_modules folder.
source "$(dirname "$0")/lib.sh"
NODE_DIR="${TABNAS_NODE_DIR:-$HOME/.cache/tabnas/node}"
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
if ! command -v chromium >/dev/null; then
    need apt-get "to install Debian's chromium for the dashboard test"
    "${SUDO[@]}" apt-get install -y -q chromium >&2 || {
        "${SUDO[@]}" apt-get update -q >&2 || true
        "${SUDO[@]}" apt-get install -y -q chromium >&2
    }
fi
if [[ ! -e "$NODE_DIR/node_modules/playwright-core/package.json" ]]; then
    if ! command -v npm >/dev/null; then
        need apt-get "to install npm, which fetches playwright-core"
        "${SUDO[@]}" apt-get install -y -q npm >&2 || {
            "${SUDO[@]}" apt-get update -q >&2 || true
            "${SUDO[@]}" apt-get install -y -q npm >&2
        }
    fi
    mkdir -p "$NODE_DIR"
    # npm's own error (a registry it cannot reach, a certificate it does not trust) is
    # shown, not silenced: it names what to fix.
    npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error playwright-core@1 >&2
fi
echo "$NODE_DIR/node_modules"
