#!/usr/bin/env bash
# tabnas on boards, under emulation (issue 11; firmware-config/README.md documents the
# same commands for real boards):
#
#   1. installs what it needs from Debian (idempotent): Debian's Rust toolchain
#      (rustc-web/cargo-web, upgraded from bookworm-security when older than the
#      workspace's rust-version; the arm64/armhf standard libraries, armhf's from the
#      pool when its index is out of sync; rust-web-src for -Z build-std), the cross
#      gcc/binutils, qemu-user-static and qemu-system-arm;
#   2. ARM Linux: builds `tabnas-agent` (edge profile) for aarch64 and armv7 with
#      Debian's cargo, reports what it is made of (scripts/binary_composition.py) and
#      runs it under qemu-user: toy, `config show` of every profile,
#      a whole search with --fake-latency and one measured, the answer re-checked in
#      tract, --resume after kill -9. This needs a Debian rustc at least the workspace's
#      rust-version; an older one is reported as SKIPPED (BOARDS_REQUIRE_AGENT=1 makes
#      that fatal);
#   3. Cortex-M4: generates the flash image's model blob and packed search configuration
#      from the demo bundle and firmware-config/cortex-m4.toml, builds
#      firmware/cortex-m4 for thumbv7em-none-eabihf, runs the whole device search in
#      qemu-system-arm (mps2-an386), and replays it on this machine and under qemu-user
#      on aarch64 (and armv7): same table, same losses bit for bit, same steps, same
#      answer; then runs it again with UART0 on a unix socket and fetches Info, Status,
#      Best and the whole latency table over the tabnas wire protocol
#      (tests/python/tabnas_protocol.py ask), with garbage, truncated, oversized and
#      wrong-version frames in between;
#   4. prints a summary (sizes, times). Any failure exits non-zero.
#
# BOARDS_ONLY=cm4 runs only the Cortex-M4 part (with the install step and the blob
# generator it needs); the default, BOARDS_ONLY=all, runs everything.
#
# Build outputs: $HOME/.cache/tabnas/boards-target (cross builds) and
# $HOME/.cache/tabnas/boards (generated blobs, logs, run folders); the host helpers
# reuse the workspace's build folder ($CARGO_TARGET_DIR, else ./target).
cd "$(dirname "$0")/.."
source scripts/lib.sh
ROOT=$PWD

CACHE="${TABNAS_BOARDS_CACHE:-$HOME/.cache/tabnas/boards}"
XTARGET="${TABNAS_BOARDS_TARGET:-$HOME/.cache/tabnas/boards-target}"
HOST_TARGET="$(target_dir)"
mkdir -p "$CACHE" "$XTARGET"
export CARGO_TERM_COLOR=never
BOARDS_ONLY="${BOARDS_ONLY:-all}"
case $BOARDS_ONLY in
all | cm4) ;;
*) echo "BOARDS_ONLY must be all or cm4, not '$BOARDS_ONLY'" >&2; exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*"; }
SUMMARY=()
note() { SUMMARY+=("$*"); printf '    %s\n' "$*"; }
T_START=$SECONDS
timed() { # timed NAME CMD...: runs CMD, records its wall time
    local name=$1 t0=$SECONDS
    shift
    "$@"
    note "time $name: $((SECONDS - t0)) s"
}

# ---- 1. install ------------------------------------------------------------------
REQUIRED=(rustc-web cargo-web rust-web-src libstd-rust-web-dev:arm64
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-none-eabi binutils-arm-none-eabi
    qemu-user-static qemu-system-arm)
OPTIONAL=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross libstd-rust-web-dev:armhf)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing() { local p; for p in "$@"; do installed "$p" || echo "$p"; done; }
NEED_VERSION=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]; }
# Empty (not a failure) before Debian's rustc is installed.
deb_rustc_version() { if [[ -x /usr/bin/rustc ]]; then /usr/bin/rustc --version | awk '{print $2}'; fi; }
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
APT_ARCHS=() # apt options restricting the architectures, set when armhf's index fails

# apt-get update. The armhf index of bookworm-security has been seen out of sync on the
# mirror for hours ("File has unexpected size"), and apt then keeps the whole suite's old
# indexes, hiding the security suite's newer Rust from amd64 and arm64 too: retry once,
# then update without armhf (armv7 then takes its standard library from the pool below).
apt_update() {
    "${SUDO[@]}" dpkg --add-architecture arm64
    "${SUDO[@]}" dpkg --add-architecture armhf
    local log
    log=$(mktemp)
    "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 && { rm -f "$log"; return; }
    sleep 20
    "${SUDO[@]}" apt-get update -qq >"$log" 2>&1 && { rm -f "$log"; return; }
    grep -E '^(E|Err)' "$log" | head -3 | sed 's/^/    apt: /' >&2
    rm -f "$log"
    echo "    apt-get update failed twice: updating the amd64 and arm64 indexes alone" >&2
    APT_ARCHS=(-o 'APT::Architectures::=amd64' -o 'APT::Architectures::=arm64')
    "${SUDO[@]}" apt-get update -qq "${APT_ARCHS[@]}" ||
        echo "    apt-get update failed: going on with the indexes fetched" >&2
}
apt_install() { # apt_install PACKAGE...: installs or upgrades to the candidate
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
        "${APT_ARCHS[@]}" "$@" >/dev/null
}

install() {
    local need opt have
    mapfile -t need < <(missing "${REQUIRED[@]}")
    mapfile -t opt < <(missing "${OPTIONAL[@]}")
    have=$(deb_rustc_version)
    if ((${#need[@]} + ${#opt[@]} == 0)) && version_ge "${have:-0}" "$NEED_VERSION"; then
        note "packages: all installed"
        return
    fi
    apt_update
    # Installs what is missing and upgrades the Rust packages to the newest candidate
    # (bookworm-security carries rustc-web 1.96; bookworm itself 1.85).
    apt_install "${REQUIRED[@]}"
    if ((${#opt[@]})) && ! apt_install "${OPTIONAL[@]}"; then
        echo "    armv7 packages did not install from apt (${opt[*]})" >&2
    fi
    note "packages: installed or upgraded ${REQUIRED[*]}; Debian rustc $(deb_rustc_version)"
}
step "install the cross toolchains and emulators (Debian packages)"
timed install install

# Debian's toolchain, by full path: rustup's cargo and rustc come first on PATH.
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
deb() { RUSTC=$DEB_RUSTC RUSTDOC=/usr/bin/rustdoc "$DEB_CARGO" "$@"; }
DEB_VERSION=$(deb_rustc_version)
note "Debian rustc $DEB_VERSION; workspace rust-version $NEED_VERSION"

# armv7's standard library: from apt when its armhf package installs at the same version
# as Debian's rustc; otherwise (the armhf index out of sync, see apt_update) the same
# version's two .deb files from the pool, unpacked into a sysroot of their own that only
# the armv7 units see (CARGO_TARGET_ARMV7_..._RUSTFLAGS=--sysroot).
armhf_std() {
    local version pkg dir url f ok
    version=$(dpkg-query -W -f='${Version}' rustc-web)
    [[ "$(dpkg-query -W -f='${Version}' libstd-rust-web-dev:armhf 2>/dev/null)" == "$version" ]] &&
        { note "armv7 standard library: Debian package libstd-rust-web-dev:armhf $version"; return 0; }
    dir="$CACHE/armhf-std-$version"
    if [[ ! -f $dir/.complete ]]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        for pkg in "libstd-rust-web-$(cut -d. -f1,2 <<<"$version")" libstd-rust-web-dev; do
            f="$dir/${pkg}_armhf.deb"
            ok=0
            for url in http://deb.debian.org/debian-security/pool/updates/main/r/rustc-web \
                http://deb.debian.org/debian/pool/main/r/rustc-web; do
                curl -sfL --retry 2 -o "$f" "$url/${pkg}_${version//+/%2B}_armhf.deb" && { ok=1; break; }
            done
            ((ok)) || { note "armv7 standard library: ${pkg}_${version}_armhf.deb not in the pool"; return 1; }
            dpkg-deb -x "$f" "$dir/sysroot" && rm -f "$f"
        done
        touch "$dir/.complete"
    fi
    export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="--sysroot $dir/sysroot/usr"
    note "armv7 standard library: libstd-rust-web-dev $version (armhf) unpacked from the pool"
}
HAVE_ARMHF=0
if installed gcc-arm-linux-gnueabihf && installed libc6-dev-armhf-cross && armhf_std; then
    HAVE_ARMHF=1
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
# One quality thread: under this qemu-user (7.2) with Debian's cross glibc, creating any
# thread in an ARM binary hangs (agent/src/quality.rs, `quality_threads`).
QEMU_AARCH64=(qemu-aarch64-static -E TABNAS_QUALITY_THREADS=1 -L /usr/aarch64-linux-gnu)
QEMU_ARMV7=(qemu-arm-static -E TABNAS_QUALITY_THREADS=1 -L /usr/arm-linux-gnueabihf)

# Host helpers (rustup's toolchain, the main build cache): the Cortex-M4 blob generator
# and the tract loader of a board's answer.
HELPERS=(--example cm4_blob --example onnx_loss)
[[ $BOARDS_ONLY == all ]] || HELPERS=(--example cm4_blob)
step "host helpers (tabnas-e2e ${HELPERS[*]})"
timed host-helpers env CARGO_TARGET_DIR="$HOST_TARGET" \
    cargo build --release --locked -p tabnas-e2e "${HELPERS[@]}"
CM4_BLOB="$HOST_TARGET/release/examples/cm4_blob"
ONNX_LOSS="$HOST_TARGET/release/examples/onnx_loss"

# ---- 2. ARM Linux agent ------------------------------------------------------------
# agent_checks NAME RUNNER... -- BINARY: the emulated checks of one agent binary.
agent_checks() {
    local name=$1
    shift
    local run=()
    while [[ $1 != -- ]]; do run+=("$1"); shift; done
    local bin=$2 w="$CACHE/agent-$name"
    rm -rf "$w"
    mkdir -p "$w"
    "${run[@]}" "$bin" toy >"$w/toy.txt"
    note "$name: toy ok ($(tail -1 "$w/toy.txt"))"
    local f
    for f in firmware-config/*.toml; do
        "${run[@]}" "$bin" config show "$f" >/dev/null
        "${run[@]}" "$bin" config pack "$f" --out "$w/$(basename "$f" .toml).bin" >/dev/null
        "${run[@]}" "$bin" config show "$w/$(basename "$f" .toml).bin" >/dev/null
    done
    note "$name: config show/pack of $(ls firmware-config/*.toml | wc -l) profiles ok"
    # A quick profile: emulated timings mean nothing, only that the search completes.
    cat >"$w/quick.toml" <<'TOML'
[board]
name = "emulated"
[measurement]
warmup_ms = 20
warmup = 3
min_sample_us = 50
repeats = 5
min_repeats = 3
max_cv = 10.0
noise_budget_ms = 2000
[search]
steps = 100
calibration_children = 8
max_direct_children = 0
max_model_error = 0.99
TOML
    local t0=$SECONDS
    "${run[@]}" "$bin" search --fake-latency --steps 100 --quiet --out "$w/fake" >"$w/fake.txt"
    note "$name: search --fake-latency --steps 100: $((SECONDS - t0)) s, $(answer "$w/fake")"
    t0=$SECONDS
    "${run[@]}" "$bin" search --profile "$w/quick.toml" --quiet --out "$w/real" >"$w/real.txt"
    note "$name: measured search (quick profile, 100 steps): $((SECONDS - t0)) s, $(answer "$w/real")"
    local widths loss
    for run_dir in "$w/fake" "$w/real"; do
        widths=$(python3 -c 'import json,sys; print("-".join(map(str, json.load(open(sys.argv[1]))["architecture"])))' "$run_dir/result.json")
        loss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["validation_loss"])' "$run_dir/result.json")
        "$ONNX_LOSS" --onnx "$run_dir/best.onnx" --expect "$loss" >/dev/null
        "${run[@]}" "$bin" measure --profile "$w/quick.toml" --widths "$widths" >"$run_dir/measure.txt"
    done
    note "$name: best.onnx of both runs loads in tract with the reported loss; measure --widths ok"
    # --resume after kill -9, against an uninterrupted run of the same search.
    "${run[@]}" "$bin" search --fake-latency --steps 100000 --quiet --out "$w/straight" >/dev/null
    "${run[@]}" "$bin" search --fake-latency --steps 100000 --quiet --out "$w/killed" >/dev/null &
    local pid=$! waited=0
    until [[ -f "$w/killed/checkpoint.json" ]] && grep -q '"step": *[1-9]' "$w/killed/checkpoint.json"; do
        sleep 0.2
        waited=$((waited + 1))
        ((waited < 600)) || { echo "no checkpoint after 120 s" >&2; return 1; }
        kill -0 "$pid" 2>/dev/null || break
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    "${run[@]}" "$bin" search --fake-latency --steps 100000 --quiet --out "$w/killed" --resume >"$w/resume.txt"
    local at
    at=$(sed -n 's/^resuming at step \([0-9]*\) of.*/\1/p' "$w/resume.txt")
    [[ -n $at && $at -lt 100000 ]] ||
        { echo "the kill did not interrupt the search: $(head -3 "$w/resume.txt")" >&2; return 1; }
    [[ "$(answer "$w/killed")" == "$(answer "$w/straight")" ]] ||
        { echo "resumed answer $(answer "$w/killed") != $(answer "$w/straight")" >&2; return 1; }
    note "$name: kill -9 at step $at of 100000 + --resume gives the uninterrupted answer ($(answer "$w/killed"))"
}
answer() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]+"/result.json")); print("-".join(map(str,r["architecture"])), "%.2f us" % r["latency_us"], "loss %.4f" % r["validation_loss"])' "$1"
}

linux_agent() { # linux_agent TRIPLE NAME STRIP RUNNER...
    local triple=$1 name=$2 strip=$3
    shift 3
    local t0=$SECONDS
    # Without the embedded demo bundle (feature demo-bundle): the checks run in the
    # repository, where a search without --bundle reads models/higgs-demo. The edge
    # profile with its symbols kept, for the composition report; binutils' strip then
    # gives the binary a board gets from the documented build (cargo's strip = true).
    CARGO_PROFILE_EDGE_STRIP=false deb build --locked --profile edge -p tabnas-agent \
        --bin tabnas-agent --target "$triple" --no-default-features --features cli \
        --target-dir "$XTARGET"
    local full="$XTARGET/$triple/edge/tabnas-agent" bin="$CACHE/tabnas-agent-$name"
    "$strip" -o "$bin" "$full"
    note "$name: tabnas-agent (edge) $(stat -c %s "$bin") bytes stripped, built in $((SECONDS - t0)) s"
    python3 scripts/binary_composition.py --nm "${strip%strip}nm" --top 8 "$full" |
        sed 's/^/      /'
    agent_checks "$name" "$@" -- "$bin"
}

step "ARM Linux: tabnas-agent for aarch64 and armv7 under qemu-user"
if [[ $BOARDS_ONLY != all ]]; then
    note "ARM Linux agent: not run (BOARDS_ONLY=$BOARDS_ONLY)"
elif version_ge "$DEB_VERSION" "$NEED_VERSION"; then
    linux_agent aarch64-unknown-linux-gnu aarch64 aarch64-linux-gnu-strip "${QEMU_AARCH64[@]}"
    if ((HAVE_ARMHF)); then
        linux_agent armv7-unknown-linux-gnueabihf armv7 arm-linux-gnueabihf-strip "${QEMU_ARMV7[@]}"
    else
        note "armv7: SKIPPED (the armhf standard library did not install)"
    fi
else
    note "ARM Linux agent: SKIPPED: Debian's rustc is $DEB_VERSION, the workspace needs $NEED_VERSION (tract-data 0.23 uses let chains, Rust 1.88; tabnas-bundle File::try_lock, 1.89)"
    [[ "${BOARDS_REQUIRE_AGENT:-0}" == 0 ]] || exit 1
    # The same checks on the host's agent (built by scripts/test.sh), so that the
    # commands the boards run stay exercised until the cross toolchain is new enough.
    HOST_AGENT="$HOST_TARGET/release/tabnas-agent"
    if [[ ! -x $HOST_AGENT ]]; then
        CARGO_TARGET_DIR="$HOST_TARGET" cargo build --release --locked -p tabnas-agent --bin tabnas-agent
    fi
    agent_checks x86_64-native -- "$HOST_AGENT"
fi

# ---- 3. Cortex-M4 firmware ---------------------------------------------------------
FW=firmware/cortex-m4
step "Cortex-M4: model blob and packed search configuration"
# heapless 0.9.4 needs Rust 1.87 for its c_string module (not used by the core): the
# firmware builds against a copy without it (firmware/cortex-m4/Cargo.toml [patch]).
heapless_crate() { ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/heapless-0.9.4.crate 2>/dev/null | head -1; }
[[ -n "$(heapless_crate)" ]] || cargo fetch --locked >/dev/null
HEAPLESS_CRATE=$(heapless_crate)
if [[ ! -f $FW/vendor/heapless-0.9.4/.patched ]]; then
    rm -rf "$FW/vendor/heapless-0.9.4"
    mkdir -p "$FW/vendor"
    tar -xzf "$HEAPLESS_CRATE" -C "$FW/vendor"
    sed -i '/^pub use c_string::CString;$/d; /^pub mod c_string;$/d' "$FW/vendor/heapless-0.9.4/src/lib.rs"
    sed -i 's/^rust-version = "1.88"/rust-version = "1.85"/' "$FW/vendor/heapless-0.9.4/Cargo.toml"
    touch "$FW/vendor/heapless-0.9.4/.patched"
fi
BLOB="$CACHE/cm4"
"$CM4_BLOB" --out "$BLOB" --profile firmware-config/cortex-m4.toml
export TABNAS_CM4_CONFIG="$BLOB/config.bin" TABNAS_CM4_MODEL="$BLOB/model.bin"

step "Cortex-M4: build (thumbv7em-none-eabihf, Debian cargo, -Z build-std=core)"
fw_build() {
    (cd "$FW" && RUSTC_BOOTSTRAP=1 deb build --locked --release --ignore-rust-version \
        -Z build-std=core -Z build-std-features=compiler-builtins-mem \
        --target thumbv7em-none-eabihf --target-dir "$XTARGET/cm4")
}
timed firmware-build fw_build
ELF="$XTARGET/cm4/thumbv7em-none-eabihf/release/tabnas-cm4"
read -r FLASH RAM < <(arm-none-eabi-size -A "$ELF" | awk '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { f += $2 }
    $1 == ".data" { f += $2; r += $2 } $1 == ".bss" { r += $2 }
    END { print f, r }')
note "firmware: flash $FLASH bytes of 1048576 (model blob $(stat -c %s "$BLOB/model.bin")), static RAM $RAM bytes of 196608"

step "Cortex-M4: the device search in qemu-system-arm (mps2-an386)"
# -icount: the emulated clock (SysTick) advances per instruction, so the table the
# firmware measures is the same on every run.
fw_run() {
    timeout 600 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -icount shift=5 \
        -kernel "$ELF" >"$BLOB/firmware.log" 2>&1
}
timed firmware-qemu fw_run || { cat "$BLOB/firmware.log"; exit 1; }
grep -q '^DONE' "$BLOB/firmware.log" || { cat "$BLOB/firmware.log"; exit 1; }
grep -vE '^(TABLE|LOSS|CHILD) ' "$BLOB/firmware.log" | sed 's/^/    | /'
STACK=$(sed -n 's/^STACK used=\([0-9]*\).*/\1/p' "$BLOB/firmware.log")
note "firmware: stack high-water $STACK bytes; RAM in use $((RAM + STACK)) of 196608"
note "firmware: $(grep '^ANSWER' "$BLOB/firmware.log")"
note "firmware: $(grep '^SEARCH-TIME' "$BLOB/firmware.log")"
SERVE_STACK=$(sed -n 's/^SERVE-STACK used=\([0-9]*\).*/\1/p' "$BLOB/firmware.log")
grep -q '^SERVED 0 requests' "$BLOB/firmware.log" || { cat "$BLOB/firmware.log"; exit 1; }
note "firmware: without a serial line the serve loop ends when idle ($(grep '^SERVE ' "$BLOB/firmware.log")); stack high-water after serving $SERVE_STACK bytes"

step "Cortex-M4: the answer fetched over UART0 (tabnas wire protocol, unix socket chardev)"
# The same image, UART0 on a unix socket: qemu waits for the client (wait=on), the
# firmware runs its search, then answers frames on the UART until the line has been
# idle for SERVE_IDLE_S emulated seconds (src/chip.rs). The Python peer asks for what a
# host fetches, with frames the board must answer with an error in between.
fw_serial() {
    local sock="$BLOB/uart0.sock" qpid i cut bad
    rm -f "$sock"
    timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none \
        -chardev "socket,id=uart0,path=$sock,server=on,wait=on" -serial chardev:uart0 \
        -semihosting-config enable=on,target=native -icount shift=5 \
        -kernel "$ELF" >"$BLOB/serial.log" 2>&1 &
    qpid=$!
    for i in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
    # A request whose message is cut (its id still reads) and a frame cut inside its
    # COBS blocks.
    read -r cut bad < <(cd tests/python && python3 -c '
import tabnas_protocol as p
c = p.content(42, p.encode_request("Measure", widths=[64, 16, 32]))
print((p.cobs_encode(c[:-2]) + b"\0").hex(), (p.stream_frame(43, p.encode_request("Status"))[:-3] + b"\0").hex())')
    python3 tests/python/tabnas_protocol.py ask "$sock" Info Status Best table \
        raw=ffff7f00 Status raw="$cut" raw="$bad" version=2 oversize=3000 Best \
        Measure="$ANSWER_WIDTHS" Measure=7-7-7 BestOnnx=0 LatencyTable=0 \
        LatencyTable=5000 StartSearch=@/dev/null Stop Status >"$BLOB/serial.jsonl" ||
        { kill "$qpid" 2>/dev/null; wait "$qpid" || true; cat "$BLOB/serial.log"; return 1; }
    wait "$qpid" || { cat "$BLOB/serial.log"; return 1; }
}
ANSWER_WIDTHS=$(sed -n 's/^ANSWER \([0-9-]*\) .*/\1/p' "$BLOB/firmware.log")
timed firmware-serial fw_serial
python3 - "$BLOB/serial.log" "$BLOB/serial.jsonl" <<'PY'
import json, re, struct, sys
log = open(sys.argv[1]).read()
got = [json.loads(l) for l in open(sys.argv[2])]
m = re.search(r"^ANSWER (\S+) latency_us=(\S+) predicted_us=\S+ target_us=(\S+) loss=(\S+)$", log, re.M)
assert m, "no ANSWER line in the serial run's log"
widths = [int(w) for w in m.group(1).split("-")]
latency, target, loss = float(m.group(2)), float(m.group(3)), float(m.group(4))
def msg(i):
    assert "message" in got[i], got[i]
    return got[i]["message"]
def error(i, code, ids=None):
    e = msg(i).get("Error")
    assert e and e["code"] == code, f"answer {i}: {got[i]}, not Error {code}"
    assert ids is None or got[i]["id"] in ids, f"answer {i}: id {got[i]['id']} not in {ids}"
assert len(got) == 19, f"{len(got)} answers to 19 requests"
info = msg(0)["Info"]
assert info["board"] == "cortex-m4" and info["outputs"] == 1 and len(info["space"]) == len(widths), info
status = msg(1)["Status"]
assert status["phase"] == "Done" and status["step"] == status["steps"] > 0, status
assert abs(status["target_us"] - target) < 1e-3 and status["best"]["widths"] == widths, status
best = msg(2)["Best"]
assert best["summary"]["widths"] == widths, (best, widths)
assert abs(best["summary"]["latency_us"] - latency) < 0.01, (best, latency)
assert abs(best["summary"]["validation_loss"] - loss) < 1e-5, (best, loss)
assert best["record"]["latency_us"] == best["summary"]["latency_us"] and best["onnx_bytes"] == 0
table = got[3]["table"]
rows = {(int(b), int(i), int(o)): int(bits, 16) for b, i, o, bits in
        re.findall(r"^TABLE (\d+) (\d+) (\d+) ([0-9a-f]{8}) ", log, re.M)}
assert table["total"] == len(rows) == len(table["entries"]), (table["total"], len(rows))
for e in table["entries"]:
    bits = struct.unpack("<I", struct.pack("<f", e["latency_us"]))[0]
    assert rows[(e["block"], e["in_choice"], e["out_choice"])] == bits, e
scale = float(re.search(r"^CALIBRATION \S+ \S+ scale=(\S+)", log, re.M).group(1))
assert abs(table["scale"] - scale) < 1e-4, (table["scale"], scale)
error(4, "Malformed", [0])
assert msg(5)["Status"] == status
error(6, "Malformed", [42])
error(7, "Malformed", [0, 43])
error(8, "UnknownVersion", [0])
assert "version 1" in msg(8)["Error"]["detail"], msg(8)
error(9, "TooLarge", [0])
assert msg(10)["Best"] == best
measured = msg(11)["Measured"]
assert measured["widths"] == widths, measured
assert abs(measured["record"]["latency_us"] - latency) < 0.05 * latency, measured
error(12, "BadRequest")
error(13, "Unsupported")
assert msg(14)["TableChunk"]["total"] == table["total"]
error(15, "BadRequest")
error(16, "BadRequest")
assert msg(17)["Stopped"]["step"] == status["step"]
assert msg(18)["Status"] == status
served = re.search(r"^SERVED (\d+) requests errors=(\d+)", log, re.M)
assert served, "no SERVED line"
assert (int(served.group(1)), int(served.group(2))) == (18 + got[3]["chunks"], 9), served.group(0)
print(f"    {len(got)} answers: Best {m.group(1)} {best['summary']['latency_us']:.2f} us "
      f"loss {best['summary']['validation_loss']:.6f} = the ANSWER line; the table's "
      f"{table['total']} entries ({got[3]['chunks']} chunk) = the TABLE lines bit for bit; "
      "9 documented errors, served on after each")
PY
note "firmware: over UART0: $(grep '^SERVED' "$BLOB/serial.log"); Best = ANSWER $ANSWER_WIDTHS, table = TABLE lines"

step "Cortex-M4: hardware in the loop (tabnas search --latency-from the emulated board)"
# The host trains on HIGGS rows; the emulated Cortex-M4, on a pseudo-terminal, answers
# Info and its latency table, which limit the host's search. qemu holds bytes in the
# pty until the firmware reads them, so the host may ask while the board still searches.
fw_hil() {
    local qpid pty i W=8,16,32,64,96,128
    env CARGO_TARGET_DIR="$HOST_TARGET" cargo build --release --locked -q -p tabnas-trainer --bin tabnas
    rm -rf "$BLOB/hil"
    timeout 300 qemu-system-arm -M mps2-an386 -nographic -monitor none \
        -chardev pty,id=uart0 -serial chardev:uart0 \
        -semihosting-config enable=on,target=native -icount shift=5 \
        -kernel "$ELF" >"$BLOB/hil.log" 2>&1 &
    qpid=$!
    for i in $(seq 100); do
        pty=$(sed -n 's/.*char device redirected to \(\/dev\/[^ ]*\) .*/\1/p' "$BLOB/hil.log")
        [[ -n $pty ]] && break
        sleep 0.1
    done
    [[ -n $pty ]] || { cat "$BLOB/hil.log"; return 1; }
    TABNAS_DATA_DIR="${TABNAS_DATA_DIR:-$HOME/.cache/tabnas/data}" \
        "$HOST_TARGET/release/tabnas" search --dataset higgs --max-rows 2000 \
        --space "$W;$W;$W" --latency-from "$pty" --target 1000 --steps 200 \
        --batch 64 --valid-batch 64 --out "$BLOB/hil" --quiet ||
        { kill "$qpid" 2>/dev/null; wait "$qpid" || true; cat "$BLOB/hil.log"; return 1; }
    wait "$qpid" || { cat "$BLOB/hil.log"; return 1; }
}
timed firmware-hil fw_hil
python3 - "$BLOB/hil/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["latency_source"]
assert r["resource"] == "latency-us" and s["board"] == "cortex-m4" and s["mode"] == "table", r
assert r["feasible"] and r["cost"] <= 1000, r
print(f"    hil: {r['architecture']} predicted {r['cost']:.1f} us on {s['board']} "
      f"({s['runtime']}), {s['measurements']} table entries over {s['device']}")
PY
note "firmware: hardware in the loop: $(grep '^SERVED' "$BLOB/hil.log")"

step "Cortex-M4: replay on this machine (same table, same losses, same answer)"
export TABNAS_CM4_LOG="$BLOB/firmware.log" TABNAS_CM4_REFERENCE="$BLOB/reference.txt"
(cd "$FW" && CARGO_TARGET_DIR="$XTARGET/cm4-host" cargo test --locked --features std)
note "firmware: host replay (x86-64) agrees; forward pass within 1e-5 of tract"

step "Cortex-M4: replay on aarch64 (and armv7) Linux under qemu-user"
replay_on() { # replay_on TRIPLE NAME RUNNER...
    local triple=$1 name=$2
    shift 2
    (cd "$FW" && deb build --locked --release --ignore-rust-version --features std \
        --example replay --target "$triple" --target-dir "$XTARGET/cm4")
    "$@" "$XTARGET/cm4/$triple/release/examples/replay" \
        "$TABNAS_CM4_CONFIG" "$TABNAS_CM4_MODEL" "$TABNAS_CM4_LOG" | tail -1
    note "firmware: $name replay agrees"
}
replay_on aarch64-unknown-linux-gnu aarch64 "${QEMU_AARCH64[@]}"
if ((HAVE_ARMHF)); then
    replay_on armv7-unknown-linux-gnueabihf armv7 "${QEMU_ARMV7[@]}"
else
    note "armv7 replay: SKIPPED (the armhf standard library did not install)"
fi

step "summary"
printf '    %s\n' "${SUMMARY[@]}"
printf '    boards.sh took %d s\n' "$((SECONDS - T_START))"
