# Sourced by the project's scripts: what every one of them needs.
#
# * A failing command never ends a script silently: under `set -e` the ERR trap names
#   the script, the line and the command that failed, with its exit status.
# * `need TOOL [HINT]` stops with a message naming a tool that is not installed.
# * `target_dir` is the workspace's build folder as cargo resolves it ($CARGO_TARGET_DIR
#   when set, else ./target), as an absolute path, so it stays valid after a `cd`.
set -euo pipefail
set -o errtrace
trap 'rc=$?; echo "${BASH_SOURCE[0]##*/}: line $LINENO: \`$BASH_COMMAND\` failed (exit $rc)" >&2' ERR

need() { # need TOOL [HINT]: fails with a message when TOOL is not on PATH
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "${BASH_SOURCE[1]##*/}: '$1' is not installed${2:+ ($2)}" >&2
    exit 127
}

target_dir() { # the workspace's target directory, absolute
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    case ${CARGO_TARGET_DIR:-} in
    "") echo "$root/target" ;;
    /*) echo "$CARGO_TARGET_DIR" ;;
    *) echo "$root/$CARGO_TARGET_DIR" ;;
    esac
}
