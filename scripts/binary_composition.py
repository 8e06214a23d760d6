#!/usr/bin/env python3
"""What a binary is made of: the sizes of its code and data symbols, summed per crate.

Usage: binary_composition.py [--nm NM] [--top N] ELF

Reads the symbol table of an unstripped ELF (`nm --print-size --demangle`; pass the
target's `nm`, e.g. aarch64-linux-gnu-nm, for a cross build) and attributes every sized
symbol to the crate that names it: the first `crate::` path of the demangled name, so
`<ndarray::ArrayBase<..> as Clone>::clone` counts for ndarray and a generic instantiated
by tract but defined in ndarray counts for ndarray too. Symbols without a Rust path
(C runtime, compiler builtins) count apart. Prints one line per crate, largest
first, and the share of the file the symbols cover (the rest is section headers,
relocations, unwind tables, symbol and string tables).
"""

import argparse
import collections
import os
import re
import subprocess
import sys

# "address size type name" (undefined and size-less symbols do not match).
SYMBOL = re.compile(r"^[0-9a-f]+ ([0-9a-f]+) (\w) (.*)$")
PATH = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)::")


def crate_of(name: str) -> str:
    match = PATH.search(name)
    if match is None:
        return "(no Rust path: anonymous constants such as an embedded bundle, C symbols)"
    crate = match.group(1)
    # The standard library's crates together: what a program cannot leave out.
    if crate in ("core", "alloc", "std", "hashbrown", "gimli", "addr2line", "miniz_oxide",
                 "rustc_demangle", "compiler_builtins", "object", "adler2", "memchr"):
        return "std (core, alloc, std and their dependencies)"
    return crate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elf")
    parser.add_argument("--nm", default="nm")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    try:
        out = subprocess.run([args.nm, "--print-size", "--demangle", args.elf],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"error: {args.nm} could not read {args.elf}: {err}", file=sys.stderr)
        return 1
    sizes = collections.Counter()
    for line in out.splitlines():
        match = SYMBOL.match(line)
        if match is None or match.group(2).lower() not in "tdrb":
            continue
        sizes[crate_of(match.group(3))] += int(match.group(1), 16)
    if not sizes:
        print(f"error: {args.elf} has no sized symbols (stripped?)", file=sys.stderr)
        return 1
    total = sum(sizes.values())
    print(f"{args.elf}: {os.path.getsize(args.elf)} bytes, symbols {total} bytes")
    for crate, size in sizes.most_common(args.top):
        print(f"  {size / 1e6:7.2f} MB  {100 * size / total:5.1f}%  {crate}")
    rest = sizes.most_common()[args.top:]
    if rest:
        print(f"  {sum(s for _, s in rest) / 1e6:7.2f} MB  {len(rest)} more crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
