#!/bin/sh
# RUSTC_WRAPPER for the fuzz build (scripts/fuzz.sh sets it): compiles tract's inference
# engine and its numeric crates without libFuzzer's coverage instrumentation.
#
# The bundle targets link all of tract (tabnas-bundle's runner references it, and its
# start-up registrations keep every operator alive) but never run it. Instrumented, it
# adds about 900,000 coverage counters that libFuzzer clears and scans after every
# input, which made those targets about 15 times slower. Dropping the coverage pass
# (-Cpasses=sancov-module, from cargo-fuzz's RUSTFLAGS) for these crates keeps the
# address sanitizer on them. tract-onnx keeps its counters: the bundle target runs its
# protobuf decoding.
rustc="$1"
shift
crate=""
prev=""
for arg in "$@"; do
    [ "$prev" = "--crate-name" ] && crate="$arg"
    prev="$arg"
done
case "$crate" in
tract_core | tract_data | tract_extra | tract_hir | tract_linalg | tract_nnef | \
    tract_onnx_opl | half | ndarray | matrixmultiply | rustfft | tar | minijinja | nom)
    for arg in "$@"; do
        shift
        [ "$arg" = "-Cpasses=sancov-module" ] || set -- "$@" "$arg"
    done
    ;;
esac
exec "$rustc" "$@"
