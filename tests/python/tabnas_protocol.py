#!/usr/bin/env python3
"""A second implementation of the tabnas wire protocol, written from docs/protocol.md
alone (standard library only), to prove that the document is enough.

As a library: `encode_request`, `decode_response`, `stream_frame`, `read_stream`.
As a program, the checks `tests/tests/protocol_python.rs` runs:

    tabnas_protocol.py decode request|response FILE...
                                        each FILE is stream frames of that kind; prints
                                        one JSON line per frame: {"id", "message"}
    tabnas_protocol.py encode OUT_DIR   writes one stream frame per request of the
                                        document's examples, named after the request

And a small client for a board's serial line (a tty such as qemu's `-serial pty`
/dev/pts/N or a USB serial adapter, put in raw mode; or a unix socket such as qemu's
`-chardev socket,path=...`):

    tabnas_protocol.py ask PATH REQUEST...
        sends each REQUEST in turn (ids 1, 2, ...) and prints one JSON line per answer,
        {"id", "message"} ({"id": null, "error": ...} for an answer it cannot read):
          Info  Status  Best  Stop               the requests without fields
          BestOnnx=OFFSET  LatencyTable=FIRST    one chunk
          Measure=64-16-32                       time that child on the board
          StartSearch=@FILE                      a packed search configuration
          table                                  the whole latency table, chunk by
                                                 chunk: one line {"table": {...}}
          raw=HEX                                these bytes as they are (with their 00
                                                 delimiters): one answer per frame
          version=V                              a Status frame of protocol version V
          oversize=N                             N non-zero bytes, then 00
        Waits at most --timeout seconds (default 60) for each answer.
"""

import json
import os
import select
import socket
import stat
import struct
import sys
import time

VERSION = 1
MAX_FRAME_LEN = 2304
REQUESTS = ["Status", "Best", "BestOnnx", "LatencyTable", "Measure", "StartSearch", "Stop",
            "Info"]
RESPONSES = ["Status", "Best", "OnnxChunk", "TableChunk", "Measured", "Started", "Stopped",
             "Error", "Info"]
PHASES = ["Idle", "Measuring", "Searching", "Verifying", "Done", "Stopped", "Failed"]
ERROR_CODES = ["Malformed", "UnknownVersion", "TooLarge", "Unsupported", "Busy",
               "NoResult", "BadRequest", "Failed"]


class ProtocolError(Exception):
    pass


# ---- values ------------------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def byte(self):
        if self.pos >= len(self.data):
            raise ProtocolError("truncated")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self, bits):
        value, shift = 0, 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift >= bits + 7:
                raise ProtocolError("varint too long")
        if value >= 1 << bits:
            raise ProtocolError("varint out of range")
        return value

    def f32(self):
        if self.pos + 4 > len(self.data):
            raise ProtocolError("truncated")
        (v,) = struct.unpack_from("<f", self.data, self.pos)
        self.pos += 4
        return v

    def raw(self):
        n = self.varint(32)
        if self.pos + n > len(self.data):
            raise ProtocolError("truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(b)

    def seq(self, bound, item):
        n = self.varint(32)
        if n > bound:
            raise ProtocolError(f"sequence of {n} over its bound {bound}")
        return [item() for _ in range(n)]

    def option(self, item):
        tag = self.byte()
        if tag == 0:
            return None
        if tag == 1:
            return item()
        raise ProtocolError("bad option tag")

    def tag(self, names):
        t = self.varint(32)
        if t >= len(names):
            raise ProtocolError(f"unknown tag {t}")
        return names[t]


def f32(v):
    return struct.pack("<f", v)


def seq_u16(values):
    return varint(len(values)) + b"".join(varint(v) for v in values)


# ---- COBS and frames -----------------------------------------------------------------

def cobs_encode(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block
                block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out)


def cobs_decode(data):
    out, i = bytearray(), 0
    while i < len(data):
        code = data[i]
        if code == 0 or i + code > len(data):
            raise ProtocolError("not COBS")
        out += data[i + 1:i + code]
        i += code
        if code < 255 and i < len(data):
            out.append(0)
    return bytes(out)


def content(msg_id, message):
    return bytes([VERSION]) + varint(msg_id) + message


def stream_frame(msg_id, message):
    c = content(msg_id, message)
    if len(c) > MAX_FRAME_LEN:
        raise ProtocolError("frame too large")
    return cobs_encode(c) + b"\x00"


def read_stream(data):
    """The contents of the complete, non-empty frames of a byte stream."""
    frames = []
    for chunk in data.split(b"\x00")[:-1]:
        if chunk:
            frames.append(cobs_decode(chunk))
    return frames


def split_content(c):
    if not c:
        raise ProtocolError("empty frame")
    if c[0] != VERSION:
        raise ProtocolError(f"version {c[0]}")
    r = Reader(c)
    r.pos = 1
    return r.varint(32), r


# ---- messages --------------------------------------------------------------------------

def encode_request(name, **f):
    tag = varint(REQUESTS.index(name))
    if name == "BestOnnx":
        return tag + varint(f["offset"])
    if name == "LatencyTable":
        return tag + varint(f["first"])
    if name == "Measure":
        return tag + seq_u16(f["widths"])
    if name == "StartSearch":
        return tag + varint(len(f["config"])) + f["config"]
    return tag


def decode_request(r):
    name = r.tag(REQUESTS)
    if name == "BestOnnx":
        return {"BestOnnx": {"offset": r.varint(32)}}
    if name == "LatencyTable":
        return {"LatencyTable": {"first": r.varint(16)}}
    if name == "Measure":
        return {"Measure": {"widths": r.seq(8, lambda: r.varint(16))}}
    if name == "StartSearch":
        return {"StartSearch": {"config": list(r.raw())}}
    return name


def summary(r):
    return {"widths": r.seq(8, lambda: r.varint(16)), "latency_us": r.f32(),
            "validation_loss": r.f32()}


def record(r):
    return {"latency_us": r.f32(), "samples": r.varint(32), "cv": r.f32()}


def text(r, bound):
    raw = r.raw()
    if len(raw) > bound:
        raise ProtocolError(f"string over {bound} bytes")
    return raw.decode("utf-8")


def decode_response(r):
    name = r.tag(RESPONSES)
    if name == "Status":
        return {"Status": {"phase": r.tag(PHASES), "step": r.varint(32),
                           "steps": r.varint(32), "target_us": r.f32(),
                           "best": r.option(lambda: summary(r))}}
    if name == "Best":
        return {"Best": {"summary": summary(r), "record": r.option(lambda: record(r)),
                         "onnx_bytes": r.varint(32)}}
    if name == "OnnxChunk":
        return {"OnnxChunk": {"offset": r.varint(32), "total": r.varint(32),
                              "bytes": list(r.raw())}}
    if name == "TableChunk":
        head = {"first": r.varint(16), "total": r.varint(16), "overhead_us": r.f32(),
                "scale": r.f32(), "offset_us": r.f32()}
        head["entries"] = r.seq(128, lambda: {"block": r.byte(), "in_choice": r.byte(),
                                             "out_choice": r.byte(),
                                             "latency_us": r.f32()})
        return {"TableChunk": head}
    if name == "Measured":
        return {"Measured": {"widths": r.seq(8, lambda: r.varint(16)), "record": record(r)}}
    if name == "Started":
        return {"Started": {"steps": r.varint(32)}}
    if name == "Stopped":
        return {"Stopped": {"step": r.varint(32)}}
    if name == "Info":
        return {"Info": {"board": text(r, 32), "runtime": text(r, 32),
                         "bundle": text(r, 16), "input_width": r.varint(32),
                         "outputs": r.varint(16),
                         "space": r.seq(8, lambda: r.seq(32, lambda: r.varint(16)))}}
    code = r.tag(ERROR_CODES)
    detail = r.raw()
    if len(detail) > 64:
        raise ProtocolError("detail over 64 bytes")
    return {"Error": {"code": code, "detail": detail.decode("utf-8")}}


def read_message(c, decode):
    msg_id, r = split_content(c)
    message = decode(r)
    if r.pos != len(c):
        raise ProtocolError("bytes after the message")
    return msg_id, message


# ---- the checks' command line -------------------------------------------------------------

EXAMPLES = {
    "Status": (7, encode_request("Status")),
    "Best": (300, encode_request("Best")),
    "BestOnnx": (1, encode_request("BestOnnx", offset=4096)),
    "LatencyTable": (2, encode_request("LatencyTable", first=128)),
    "Measure": (3, encode_request("Measure", widths=[64, 300])),
    "StartSearch": (4, encode_request("StartSearch", config=bytes([9, 8, 7]))),
    "Stop": (5, encode_request("Stop")),
    "Info": (6, encode_request("Info")),
}


# ---- the client of `ask` ------------------------------------------------------------------

class Line:
    """A board's serial line: a unix socket or a tty (raw mode)."""

    def __init__(self, path):
        self.sock = None
        if stat.S_ISSOCK(os.stat(path).st_mode):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(path)
            self.fd = self.sock.fileno()
        else:
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
            if os.isatty(self.fd):
                import tty
                tty.setraw(self.fd)
        self.pending = bytearray()

    def send(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def frame(self, timeout):
        """The next non-empty stream frame (COBS-encoded, without its 00)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\x00" in self.pending:
                i = self.pending.index(b"\x00")
                chunk = bytes(self.pending[:i])
                del self.pending[:i + 1]
                if chunk:
                    return chunk
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise ProtocolError(f"no answer within {timeout} s")
            data = os.read(self.fd, 4096)
            if not data:
                raise ProtocolError("the line closed")
            self.pending += data

    def close(self):
        if self.sock is not None:
            self.sock.close()
        else:
            os.close(self.fd)


def answer(line, timeout):
    chunk = line.frame(timeout)
    try:
        msg_id, message = read_message(cobs_decode(chunk), decode_response)
        return {"id": msg_id, "message": message}
    except ProtocolError as e:
        return {"id": None, "error": str(e)}


def ask(path, requests, timeout=60.0):
    line = Line(path)
    next_id = 1
    try:
        for spec in requests:
            name, _, arg = spec.partition("=")
            if name == "raw":
                data = bytes.fromhex(arg)
                line.send(data)
                for _ in [c for c in data.split(b"\x00")[:-1] if c]:
                    print(json.dumps(answer(line, timeout)), flush=True)
                continue
            if name == "oversize":
                line.send(b"\x01" * int(arg) + b"\x00")
                print(json.dumps(answer(line, timeout)), flush=True)
                continue
            if name == "version":
                line.send(cobs_encode(bytes([int(arg)]) + varint(next_id) +
                                      encode_request("Status")) + b"\x00")
                next_id += 1
                print(json.dumps(answer(line, timeout)), flush=True)
                continue
            if name == "table":
                table, chunks = None, 0
                while True:
                    first = len(table["entries"]) if table else 0
                    line.send(stream_frame(next_id, encode_request("LatencyTable", first=first)))
                    got = answer(line, timeout)
                    if got.get("id") != next_id or "TableChunk" not in got.get("message", {}):
                        raise ProtocolError(f"table chunk at {first}: {got}")
                    next_id += 1
                    chunk = got["message"]["TableChunk"]
                    chunks += 1
                    if table is None or chunk["total"] != table["total"] or chunk["first"] != first:
                        if table is not None:
                            raise ProtocolError("the table changed while it was read")
                        table = dict(chunk, entries=[])
                        del table["first"]
                    table["entries"] += chunk["entries"]
                    if len(table["entries"]) >= table["total"] or not chunk["entries"]:
                        break
                print(json.dumps({"table": table, "chunks": chunks}), flush=True)
                continue
            if name in ("BestOnnx", "LatencyTable"):
                key = "offset" if name == "BestOnnx" else "first"
                message = encode_request(name, **{key: int(arg)})
            elif name == "Measure":
                message = encode_request(name, widths=[int(w) for w in arg.split("-")])
            elif name == "StartSearch":
                with open(arg[1:] if arg.startswith("@") else arg, "rb") as f:
                    message = encode_request(name, config=f.read())
            elif name in REQUESTS:
                message = encode_request(name)
            else:
                raise ProtocolError(f"unknown request {spec!r}")
            line.send(stream_frame(next_id, message))
            next_id += 1
            print(json.dumps(answer(line, timeout)), flush=True)
    finally:
        line.close()


def main(argv):
    if len(argv) >= 3 and argv[0] == "decode" and argv[1] in ("request", "response"):
        decode = decode_request if argv[1] == "request" else decode_response
        for path in argv[2:]:
            with open(path, "rb") as f:
                data = f.read()
            for c in read_stream(data):
                msg_id, message = read_message(c, decode)
                print(json.dumps({"id": msg_id, "message": message}))
        return 0
    if len(argv) == 2 and argv[0] == "encode":
        for name, (msg_id, message) in EXAMPLES.items():
            with open(os.path.join(argv[1], name + ".bin"), "wb") as f:
                f.write(stream_frame(msg_id, message))
        return 0
    if len(argv) >= 2 and argv[0] == "ask":
        timeout = 60.0
        args = argv[1:]
        if args[0] == "--timeout":
            timeout, args = float(args[1]), args[2:]
        try:
            ask(args[0], args[1:], timeout)
        except (OSError, ProtocolError) as e:
            print(f"tabnas_protocol.py ask: {e}", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
