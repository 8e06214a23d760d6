#!/usr/bin/env python3
"""Run the command blocks of the README and the docs exactly as written.

Every fenced block tagged sh, bash, shell or console in README.md, docs/*.md,
firmware-config/README.md and firmware/cortex-m4/README.md is a command a user is told
to run. The blocks of one document run in one bash session (`set -euo pipefail`), in
document order, from the repository root, like a user typing into one terminal: an
`export` or a background `&` job carries over to the later blocks. Each block is
announced on standard error as `==> FILE:LINE` (the line of its opening fence). At the
end of a document (or at its timeout) the whole session, background jobs included, is
killed.

A block that cannot run here (a real board, a real serial device, a probe, ...) carries
an HTML comment on the line right above its fence, invisible on GitHub:

    <!-- not-run: REASON -->

and is listed as not run with its reason. In a console block only the `$ ` prompt
lines (and their `\\` continuations) are commands; the other lines are output.

    python3 scripts/doc_commands.py --list        # every block, run or not-run, nothing run
    python3 scripts/doc_commands.py [FILE...]     # run the blocks of FILEs (default: all)

The environment is the caller's, minus CARGO_TARGET_DIR and TABNAS_DATA_DIR: the
documented commands run with the defaults a new user has (builds in ./target, data in
~/.cache/tabnas/data). PATH is left alone: a document that calls the binaries by name
says how to put them on PATH.

Files the commands create in the repository are removed afterwards: the output of
`git status --porcelain --ignored --untracked-files=all` is recorded before, and only
paths that appear after are removed (never one that existed before, nor a file moved
there from a path that existed before, nor a new source file such as `*.rs`, which in a
shared working tree may be someone's edit). The exit status is non-zero when a block
failed; the failing FILE:LINE and the tail of its output are printed.
"""
import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND_TAGS = {"sh", "bash", "shell", "console"}
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
# New files with these endings are never removed: the docs create none, and in a
# working tree shared with an editor they may be that editor's new files.
SOURCE_SUFFIXES = (".rs", ".md", ".toml", ".py", ".sh", "Cargo.lock")
TAIL_LINES = 40


def documents():
    docs = [ROOT / "README.md"]
    docs += sorted((ROOT / "docs").glob("*.md"))
    docs += [ROOT / "firmware-config" / "README.md", ROOT / "firmware" / "cortex-m4" / "README.md"]
    return docs


class Block:
    def __init__(self, doc, line, tag, text, not_run):
        self.doc = doc  # path relative to the root, as a string
        self.line = line  # 1-based line of the opening fence
        self.tag = tag
        self.text = text
        self.not_run = not_run  # the reason, or None

    @property
    def where(self):
        return f"{self.doc}:{self.line}"


def console_commands(lines):
    """The commands of a console transcript: `$ ` lines and their continuations."""
    if not any(l.startswith("$ ") for l in lines):
        return lines
    out, cont = [], False
    for l in lines:
        if cont:
            out.append(l)
        elif l.startswith("$ "):
            out.append(l[2:])
        else:
            continue
        cont = l.rstrip().endswith("\\")
    return out


def parse(path):
    """The command blocks of one Markdown file; raises ValueError on a misplaced mark."""
    rel = str(path.relative_to(ROOT))
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, problems = [], []
    i = 0
    pending_mark = None  # (line, reason) of a not-run mark on the previous line
    while i < len(lines):
        m = FENCE.match(lines[i])
        mark = NOT_RUN.match(lines[i])
        if mark:
            if pending_mark:
                problems.append(f"{rel}:{pending_mark[0]}: not-run mark without a command block right below it")
            pending_mark = (i + 1, mark.group(1))
            i += 1
            continue
        if not m:
            if pending_mark:
                problems.append(f"{rel}:{pending_mark[0]}: not-run mark without a command block right below it")
                pending_mark = None
            i += 1
            continue
        indent, fence, tag = m.group(1), m.group(2), m.group(3).lower()
        start = i
        body = []
        i += 1
        while i < len(lines):
            close = re.match(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$", lines[i])
            if close:
                break
            l = lines[i]
            body.append(l[len(indent):] if l.startswith(indent) else l.lstrip())
            i += 1
        if i >= len(lines):
            problems.append(f"{rel}:{start + 1}: code block never closed")
        i += 1
        if not tag:
            problems.append(f"{rel}:{start + 1}: code block without a language: tag it sh (a command) or text")
        if tag in COMMAND_TAGS:
            if tag == "console":
                body = console_commands(body)
            reason = pending_mark[1] if pending_mark else None
            if pending_mark and not reason:
                problems.append(f"{rel}:{pending_mark[0]}: not-run mark without a reason")
            blocks.append(Block(rel, start + 1, tag, "\n".join(body) + "\n", reason))
        elif pending_mark:
            problems.append(f"{rel}:{pending_mark[0]}: not-run mark above a {tag or 'plain'} block, not a command block")
        pending_mark = None
    if pending_mark:
        problems.append(f"{rel}:{pending_mark[0]}: not-run mark without a command block right below it")
    if problems:
        raise ValueError("\n".join(problems))
    return blocks


# --- the repository's files before and after --------------------------------------------


def git_paths(untracked_only=False):
    """The paths `git status` lists (with untracked_only: untracked and ignored ones)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "-z"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE,
    ).stdout.decode("utf-8", "surrogateescape")
    paths = set()
    entries = out.split("\0")
    k = 0
    while k < len(entries):
        e = entries[k]
        k += 1
        if len(e) < 4:
            continue
        status, path = e[:2], e[3:]
        if status[0] in "RC":  # a rename's source follows
            k += 1
        if untracked_only and status not in ("??", "!!"):
            continue
        paths.add(path.rstrip("/"))
    return paths


def inodes(paths):
    seen = set()
    for p in paths:
        full = ROOT / p
        if full.is_dir() and not full.is_symlink():
            for dirpath, _, files in os.walk(full):
                for f in files:
                    try:
                        st = os.lstat(os.path.join(dirpath, f))
                        seen.add((st.st_dev, st.st_ino))
                    except OSError:
                        pass
        else:
            try:
                st = os.lstat(full)
                seen.add((st.st_dev, st.st_ino))
            except OSError:
                pass
    return seen


def tracked_dirs():
    """Every folder of the tree before the run (so that only new, empty ones are removed)."""
    dirs = set()
    for dirpath, dirnames, _ in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d != ".git" and not os.path.islink(os.path.join(dirpath, d))]
        dirs.add(os.path.relpath(dirpath, ROOT))
    return dirs


def clean(before_paths, before_inodes, before_dirs):
    """Removes the paths that appeared since `before_paths`; returns (removed, kept)."""
    removed, kept = [], []
    for p in sorted(git_paths(untracked_only=True) - before_paths):
        full = ROOT / p
        if p.endswith(SOURCE_SUFFIXES):
            kept.append(f"{p} (a new source file: maybe someone's edit)")
            continue
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in before_inodes:
            kept.append(f"{p} (moved there from a file that existed before)")
            continue
        if full.is_dir() and not full.is_symlink():
            kept.append(f"{p} (a folder git lists as one path: a nested repository?)")
            continue
        os.unlink(full)
        removed.append(p)
    # Folders that did not exist before and are empty now, deepest first.
    for d in sorted(tracked_dirs() - before_dirs, key=lambda s: s.count(os.sep), reverse=True):
        full = ROOT / d
        if full.is_dir() and not full.is_symlink() and not os.listdir(full):
            os.rmdir(full)
    return removed, kept


# --- running ------------------------------------------------------------------------------


def session_script(blocks, state):
    """One bash script: every block of a document in order, each announced first."""
    q = shlex.quote
    parts = [
        "set -euo pipefail",
        f"cd {q(str(ROOT))}",
        "trap '__rc=$?; echo \"doc commands: \\`$BASH_COMMAND\\` failed (exit $__rc)\" >&2' ERR",
    ]
    for n, b in enumerate(blocks):
        if b.not_run:
            parts.append(f"printf '\\n--> %s not run: %s\\n' {q(b.where)} {q(b.not_run)} >&2")
            continue
        delim = f"__DOC_BLOCK_{n}__"
        parts.append(f"printf '%s\\n' {q(str(n))} > {q(state)}")
        parts.append(f"printf '\\n==> %s\\n' {q(b.where)} >&2")
        parts.append(f"sed 's/^/    /' >&2 <<'{delim}'\n{b.text}{delim}")
        parts.append(b.text)
    parts.append(f"printf 'done\\n' > {q(state)}")
    return "\n".join(parts) + "\n"


def kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        for _ in range(30):
            proc.poll()  # reap the session's shell, or it stays a member of the group
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def run_document(doc, blocks, timeout, env):
    """Runs one document's blocks; returns (passed, failed, not_run, not_reached, failure)."""
    to_run = [b for b in blocks if not b.not_run]
    skipped = len(blocks) - len(to_run)
    if not to_run:
        for b in blocks:
            print(f"\n--> {b.where} not run: {b.not_run}", file=sys.stderr)
        return 0, 0, skipped, 0, None
    for b in blocks:  # not-run blocks too: parsing runs nothing
        check = subprocess.run(["bash", "-n"], input=b.text.encode(), stderr=subprocess.PIPE)
        if check.returncode != 0:
            msg = check.stderr.decode(errors="replace").strip()
            # Nothing of the document runs: the faulty block fails, the others are not reached.
            reached = 1 if b.not_run else 0
            return 0, 1, skipped - reached, len(to_run) - 1 + reached, (b.where, f"not valid bash:\n{msg}")
    with tempfile.TemporaryDirectory(prefix="doc-commands-") as tmp:
        state = os.path.join(tmp, "state")
        script = os.path.join(tmp, "session.sh")
        log = os.path.join(tmp, "output")
        Path(script).write_text(session_script(blocks, state))
        print(f"\n### {doc}: {len(to_run)} blocks, {skipped} not run", file=sys.stderr)
        started = time.monotonic()
        with open(log, "wb") as out, open(log, "rb") as follow:
            proc = subprocess.Popen(
                ["bash", script], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
            timed_out = False
            while proc.poll() is None:
                chunk = follow.read()
                if chunk:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.flush()
                if time.monotonic() - started > timeout:
                    timed_out = True
                    break
                time.sleep(0.2)
            rc = proc.returncode
            kill_group(proc)
            proc.wait()
            chunk = follow.read()
            if chunk:
                sys.stderr.buffer.write(chunk)
                sys.stderr.flush()
        elapsed = time.monotonic() - started
        last = Path(state).read_text().strip() if os.path.exists(state) else ""
        output = Path(log).read_bytes().decode("utf-8", "replace")
    print(f"\n### {doc}: {elapsed:.0f} s", file=sys.stderr)
    if last == "done" and not timed_out and rc == 0:
        return len(to_run), 0, skipped, 0, None
    index = int(last) if last.isdigit() else 0
    failing = blocks[index] if last.isdigit() else to_run[0]
    n = to_run.index(failing)
    why = f"timed out after {timeout:.0f} s" if timed_out else f"exit {rc}"
    marker = f"\n==> {failing.where}\n"
    tail = output[output.rfind(marker) + 1:] if marker in output else output
    tail = "\n".join(tail.splitlines()[-TAIL_LINES:])
    return n, 1, skipped, len(to_run) - n - 1, (failing.where, f"{why}; the last lines of its output:\n{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="Markdown files (default: README.md, docs/*.md, "
                    "firmware-config/README.md, firmware/cortex-m4/README.md)")
    ap.add_argument("--list", action="store_true", help="list every block, run or not-run; run nothing")
    ap.add_argument("--timeout", type=float, default=600,
                    help="wall-clock seconds per document, builds included (default 600)")
    args = ap.parse_args()

    paths = [Path(f).resolve() for f in args.files] if args.files else documents()
    parsed, problems = [], []
    for p in paths:
        try:
            p.relative_to(ROOT)
        except ValueError:
            sys.exit(f"doc commands: {p} is not in the repository")
        if not p.is_file():
            sys.exit(f"doc commands: {p}: no such file")
        try:
            parsed.append((str(p.relative_to(ROOT)), parse(p)))
        except ValueError as e:
            problems.append(str(e))
    if problems:
        sys.exit("doc commands: malformed blocks:\n" + "\n".join(problems))

    if args.list:
        for doc, blocks in parsed:
            for b in blocks:
                print(f"{b.where}\t" + (f"not-run: {b.not_run}" if b.not_run else "run"))
        total = sum(len(b) for _, b in parsed)
        skipped = sum(1 for _, bs in parsed for b in bs if b.not_run)
        print(f"{total} blocks: {total - skipped} run, {skipped} not run")
        return 0

    env = dict(os.environ)
    # The defaults a user has: builds in ./target, the data in the user's cache.
    env.pop("CARGO_TARGET_DIR", None)
    env.pop("TABNAS_DATA_DIR", None)
    before_paths = git_paths()
    before_inodes = inodes(before_paths)
    before_dirs = tracked_dirs()
    passed = failed = not_run = not_reached = 0
    failures = []
    started = time.monotonic()
    try:
        for doc, blocks in parsed:
            if not blocks:
                continue
            p, f, s, r, failure = run_document(doc, blocks, args.timeout, env)
            passed, failed, not_run, not_reached = passed + p, failed + f, not_run + s, not_reached + r
            if failure:
                failures.append(failure)
    finally:
        removed, kept = clean(before_paths, before_inodes, before_dirs)
        if removed:
            print(f"\ndoc commands: removed {len(removed)} files the commands created", file=sys.stderr)
        for k in kept:
            print(f"doc commands: left in place: {k}", file=sys.stderr)
    for where, why in failures:
        print(f"\nFAILED {where}: {why}", file=sys.stderr)
    print(f"\ndoc commands: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    if failures:
        print("failed: " + ", ".join(w for w, _ in failures))
    if not_reached:
        print(f"{not_reached} blocks not reached after a failure in their document")
    print(f"doc commands: {passed} passed, {failed} failed, {not_run} not run")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
