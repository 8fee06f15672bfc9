#!/usr/bin/env python3
"""Files served by the application scenarios of the capture generator (http, tls) and their truth.

  appdata.py files DIR [--tls]          writes file1.bin .. file3.bin (deterministic pseudo-random
                                        bytes); with --tls also resp/fileN.bin = a complete HTTP/1.0
                                        response (headers + body) for `openssl s_server -HTTP`
  appdata.py truth DIR OUT.json NAME    checks that DIR/got/fileN.bin (what curl downloaded) equals
                                        the served file and writes the truth (requests, responses,
                                        files with size and sha256) for the capture NAME

The bodies are incompressible and different per file, so a reassembly error cannot hide.
Python 3 standard library only.
"""
import hashlib
import json
import os
import random
import sys

SIZES = (200000, 250000, 300000)


def names():
    return ["file%d.bin" % (i + 1) for i in range(len(SIZES))]


def body(i):
    return random.Random("mptcp-reassembly-%d" % (i + 1)).randbytes(SIZES[i])


def make_files(d, tls):
    os.makedirs(d, exist_ok=True)
    for i, name in enumerate(names()):
        data = body(i)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        if tls:
            os.makedirs(os.path.join(d, "resp"), exist_ok=True)
            head = ("HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(data)).encode()
            with open(os.path.join(d, "resp", name), "wb") as f:
                f.write(head + data)


def write_truth(d, out, capname):
    files = []
    for i, name in enumerate(names()):
        data = body(i)
        got_path = os.path.join(d, "got", name)
        with open(got_path, "rb") as f:
            got = f.read()
        if got != data:
            sys.exit("appdata: %s: downloaded %d bytes differ from the served file" % (name, len(got)))
        files.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    truth = {"capture": capname, "requests": ["/" + n for n in names()], "responses": len(names()),
             "files": files}
    with open(out, "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


def main(argv):
    if len(argv) >= 2 and argv[0] == "files":
        make_files(argv[1], "--tls" in argv[2:])
        return 0
    if len(argv) == 4 and argv[0] == "truth":
        write_truth(argv[1], argv[2], argv[3])
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
