#!/usr/bin/env python3
"""The demo dApp's data, with the standard library only (no NumPy needed to run the demo).

  demo_matrices.py make PATH ROWS COLS   write a random int8 ROWS×COLS matrix as a .npy file
  demo_matrices.py check A B C           recompute C's first row (first 4 values) from A and B
"""
import os
import struct
import sys


def save_i8(path, rows, cols):
    header = "{'descr': '|i1', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    # NumPy's format 1.0: magic, version, header length, header padded to 64 bytes with '\n'.
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(os.urandom(rows * cols))


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] in (b"\x93NUMPY\x01\x00",), f"{path}: not a version 1.0 .npy file"
    (length,) = struct.unpack("<H", data[8:10])
    header = eval(data[10 : 10 + length].decode("latin1"))  # a Python dict literal by definition
    assert not header["fortran_order"], f"{path}: Fortran order"
    rows, cols = header["shape"]
    body = data[10 + length :]
    kind = {"|i1": ("b", 1), "<i4": ("i", 4)}[header["descr"]]
    values = struct.unpack("<%d%s" % (rows * cols, kind[0]), body[: rows * cols * kind[1]])
    return rows, cols, values


def main():
    if sys.argv[1] == "make":
        save_i8(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "check":
        (m, k, a), (_, n, b), (_, _, c) = (load(p) for p in sys.argv[2:5])
        want = [sum(a[x] * b[x * n + j] for x in range(k)) for j in range(min(4, n))]
        got = list(c[: len(want)])
        verdict = "equal" if got == want else "DIFFERENT"
        print(f"C[0, :{len(want)}] = {got}; recomputed here from A and B: {want} ({verdict})")
        sys.exit(0 if got == want else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
