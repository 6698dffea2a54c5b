#!/usr/bin/env python3
"""edit.py - change an audit log the way someone with write access to its
folder could, keeping it valid for `audit verify` where the format allows
(docs/audit-log.md "What is and is not detected"). Written from that page,
not from shared/audit.c.

  edit.py truncate LOG N   remove the last N records, head file made to match
  edit.py rewrite LOG SEQ  change record SEQ's details and recompute the hash
                           of it and every later record, and the head file
                           (found by verify only when a checkpoint follows)
  edit.py new LOG TIME     a new log (another log id): genesis and head file,
                           as after the yearly close; LOG must not exist
"""
import hashlib
import os
import re
import sys


def F(b):
    return len(b).to_bytes(4, "big") + b


def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            n = s[i + 1]
            if n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"\\": b"\\", "t": b"\t", "n": b"\n", "r": b"\r"}[n]
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def record_hash(f, prev):
    return hashlib.sha256(b"hanko-audit-record-1\0" + F(f[0].encode())
                          + F(f[1].encode()) + F(f[2].encode())
                          + F(f[3].encode()) + F(f[4].encode())
                          + F(unescape(f[5])) + bytes.fromhex(prev)).hexdigest()


def read(log):
    with open(log, encoding="utf-8") as fh:
        return [l.rstrip("\n").split("\t") for l in fh.read().splitlines(True)]


def write(log, recs):
    with open(log, "w", encoding="utf-8") as fh:
        fh.write("".join("\t".join(r) + "\n" for r in recs))
    log_id = re.search(r"log-id=([0-9a-f]{32})", recs[0][5]).group(1)
    with open(log + ".head", "w") as fh:
        fh.write("hanko-audit-head-1 log-id=%s seq=%s hash=%s\n"
                 % (log_id, recs[-1][0], recs[-1][7]))


def main():
    cmd, log, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "truncate":
        recs = read(log)
        write(log, recs[:len(recs) - int(arg)])
    elif cmd == "rewrite":
        recs = read(log)
        k = int(arg)
        recs[k][5] += " (edited)"
        for i in range(k, len(recs)):
            recs[i][6] = recs[i - 1][7]
            recs[i][7] = record_hash(recs[i], recs[i][6])
        write(log, recs)
    elif cmd == "new":
        if os.path.exists(log):
            sys.exit(log + ": exists")
        r = ["0", arg, "audit.create", "ok", "-",
             "format=hanko-audit-1 log-id=" + os.urandom(16).hex(), "0" * 64]
        r.append(record_hash(r, r[6]))
        write(log, [r])
    else:
        sys.exit("usage: edit.py truncate|rewrite|new LOG ARG")


main()
