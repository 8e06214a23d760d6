#!/usr/bin/env python3
"""Fails when a dependency declares a newer rust-version than the workspace does.

The workspace's `rust-version` (Cargo.toml, [workspace.package]) is a promise that the
project builds with that Rust; a dependency that needs a newer one breaks it. This reads
`cargo metadata` for the platforms we build (x86_64 and ARM Linux) and compares every
package's declared rust-version with ours.
"""
import json
import subprocess
import sys


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    ours = None
    worst = []
    for target in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu",
                   "armv7-unknown-linux-gnueabihf"]:
        meta = json.loads(subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", "--locked",
             "--filter-platform", target]))
        members = set(meta["workspace_members"])
        for pkg in meta["packages"]:
            rv = pkg.get("rust_version")
            if pkg["id"] in members:
                ours = rv if ours is None else ours
                if rv != ours:
                    sys.exit(f"{pkg['name']} declares rust-version {rv}, the workspace {ours}")
        for pkg in meta["packages"]:
            rv = pkg.get("rust_version")
            if pkg["id"] not in members and rv and version(rv) > version(ours):
                worst.append(f"{pkg['name']} {pkg['version']} needs Rust {rv}")
    if ours is None:
        sys.exit("the workspace declares no rust-version")
    if worst:
        sys.exit("rust-version " + ours + " is not true:\n  " + "\n  ".join(sorted(set(worst))))
    print(f"rust-version {ours}: no dependency needs a newer Rust")


if __name__ == "__main__":
    main()
