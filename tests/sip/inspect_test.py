#!/usr/bin/python3
"""Runs examples/sip_inspect over the RFC 4475 torture corpus and the RFC 3665
call flows and checks exit codes, JSON shape, and the owed responses."""
import json, os, subprocess, sys

build = os.environ["SIGWIRE_BUILD_ROOT"]
src = os.environ["SIGWIRE_SOURCE_ROOT"]
tool = os.path.join(build, "examples", "sip_inspect")
corpus = os.path.join(os.environ.get("SIGWIRE_CORPUS_DIR", ""), "rfc4475")
failures = []

def run(args, stdin=None):
    p = subprocess.run([tool] + args, input=stdin, capture_output=True, timeout=30)
    lines = p.stdout.decode().splitlines()
    return p.returncode, [json.loads(l) for l in lines]

def check(cond, what):
    if not cond:
        failures.append(what)

flows = os.path.join(src, "tests", "sip", "data", "rfc3665")
for f in sorted(os.listdir(flows)):
    rc, objs = run([os.path.join(flows, f)])
    check(rc == 0 and "error" not in objs[0], f"{f}: rc={rc}")
    check(objs[0]["headers"][0]["name"] == "Via", f"{f}: first header")
    check("call_id" in objs[0] and "cseq" in objs[0] and "via" in objs[0], f"{f}: typed fields")

# stdin, and compact names printed long
rc, objs = run([], b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: x\r\nl: 0\r\n\r\n")
check(rc == 0 and [h["name"] for h in objs[0]["headers"]] == ["Via", "Call-ID", "Content-Length"], "stdin")
rc, objs = run([], b"OPTIONS sip:a@b SIP/7.0\r\n\r\n")
check(rc == 1 and objs[0]["error"]["name"] == "version_not_supported" and objs[0]["error"]["uas_response"]["status"] == 505, "505")

expected = {  # owed status per RFC 4475 case (0: none / drop)
    "badinv01": 400, "clerr": 400, "ncl": 400, "scalar02": 400, "scalarlg": 0, "quotbal": 400,
    "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400, "escruri": 400, "baddate": 400,
    "regbadct": 400, "badaspec": 400, "baddn": 400, "badvers": 505, "mismatch01": 400, "mismatch02": 501,
    "bigcode": 0, "badbranch": 400, "insuf": 400, "unkscm": 416, "novelsc": 416, "unksm2": 400,
    "bext01": 420, "invut": 415, "multi01": 400, "mcl01": 400, "sdp01": 406, "esc02": 501,
    "intmeth": 501}

if not os.path.isfile(os.path.join(corpus, "manifest.tsv")):
    failures.append(f"RFC 4475 corpus not found at {corpus}")
else:
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(corpus, "manifest.tsv"), encoding="utf-8")][1:]
    counts = {"valid": 0, "invalid": 0, "semantic": 0}
    for r in rows:
        f, name, verdict, reject_ok = r[0], r[2], r[4], r[7]
        counts[verdict] += 1
        rc, objs = run([os.path.join(corpus, f)])
        o = objs[0]
        owed = (o.get("error") or {}).get("uas_response") if "error" in o else o.get("uas_response")
        status = owed["status"] if owed else 0
        if verdict == "valid":
            check(rc == 0 and "error" not in o, f"{name}: valid but rc={rc} {o.get('error')}")
        elif verdict == "invalid":
            check(rc == 1 and "error" in o, f"{name}: invalid but rc={rc}")
        else:
            if not reject_ok.startswith("yes"):
                check(rc == 0 and "error" not in o, f"{name}: semantic but rc={rc} {o.get('error')}")
        if name in expected:
            check(status == expected[name], f"{name}: owed {status}, expected {expected[name]}")
    check(counts == {"valid": 14, "invalid": 19, "semantic": 16}, f"counts {counts}")
    # All files at once: exit 1 because some are invalid, one JSON line each.
    rc, objs = run([os.path.join(corpus, r[0]) for r in rows])
    check(rc == 1 and len(objs) == len(rows), "batch")

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
