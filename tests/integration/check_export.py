#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check tread's exports with real parsers (json, xml.etree), for the
integration tests (test_exports.c), which compare what this prints with
tread's own --report and folded output.

  check_export.py chrome FILE.json
      parse the Trace Event JSON; check every complete event nests within
      the enclosing one of its thread (no partial overlap), the metadata
      names every process and thread; print
        "procs N", "threads N", "thread PID TID NAME" (sorted),
        "calls NAME COUNT" (sorted),
        "event PID TID NAME TS_NS DUR_NS" per call, in file order
  check_export.py svg FILE.svg
      parse the SVG; check it is self-contained (a script, no external
      reference), frames lie within their parents and the root's total
      equals the frames' self times plus what was left out; print
        "total NS", "hidden NS", "self NAME NS" (per name, sorted)
Exit status 1 with a message on stderr when a check fails.
"""
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict


def fail(msg):
    print("check_export: " + msg, file=sys.stderr)
    sys.exit(1)


def to_ns(us):
    # "12.345" microseconds, written with exactly 3 decimals: exact in text
    return int(round(float(us) * 1000))


def chrome(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("displayTimeUnit") != "ns":
        fail("displayTimeUnit is not ns")
    events = doc["traceEvents"]
    procs, threads = {}, {}
    calls, early = Counter(), Counter()
    by_thread = defaultdict(list)
    lines = []
    for e in events:
        ph = e["ph"]
        if ph == "M":
            if e["name"] == "process_name":
                procs[e["pid"]] = e["args"]["name"]
            elif e["name"] == "thread_name":
                threads[(e["pid"], e["tid"])] = e["args"]["name"]
        elif ph == "X":
            ts, dur = to_ns(e["ts"]), to_ns(e["dur"])
            if dur < 0:
                fail("negative duration: %r" % e)
            calls[e["name"]] += 1
            if e.get("args", {}).get("entered_before_tracing") is True:
                early[e["name"]] += 1
            by_thread[(e["pid"], e["tid"])].append((ts, dur, e["name"]))
            lines.append("event %d %d %s %d %d" % (e["pid"], e["tid"], e["name"], ts, dur))
        elif ph != "i":
            fail("unexpected phase %r" % ph)
    for key, evs in by_thread.items():
        if key[0] not in procs:
            fail("no process_name for pid %d" % key[0])
        if key not in threads:
            fail("no thread_name for %r" % (key,))
        stack = []
        # file order is entry order: each call must end within its parent
        for ts, dur, name in evs:
            while stack and ts >= stack[-1][0] + stack[-1][1]:
                stack.pop()
            if stack and ts + dur > stack[-1][0] + stack[-1][1]:
                fail("%s at %d (%d ns) overlaps %s at %d (%d ns) in %r" %
                     (name, ts, dur, stack[-1][2], stack[-1][0], stack[-1][1], key))
            if stack and ts < stack[-1][0]:
                fail("%s starts before its parent %s" % (name, stack[-1][2]))
            stack.append((ts, dur, name))
    print("procs %d" % len(procs))
    print("threads %d" % len(threads))
    for (pid, tid), name in sorted(threads.items()):
        print("thread %d %d %s" % (pid, tid, name))
    for name in sorted(calls):
        print("calls %s %d" % (name, calls[name]))
    for name in sorted(early):
        print("early %s %d" % (name, early[name]))
    for line in lines:
        print(line)


SVG = "{http://www.w3.org/2000/svg}"


def svg(path):
    root = ET.parse(path).getroot()
    if root.tag != SVG + "svg":
        fail("root element is %s" % root.tag)
    if root.find(SVG + "script") is None:
        fail("no embedded script")
    for el in root.iter():
        for k, v in el.attrib.items():
            if k.endswith("href") or (k != "xmlns" and "://" in v):
                fail("external reference %s=%s" % (k, v))
        if el.tag == SVG + "script" and any(k.endswith("href") for k in el.attrib):
            fail("script with a source")
    frames = [g for g in root.iter(SVG + "g") if g.get("class") == "f"]
    if not frames:
        fail("no frames")
    total = int(root.get("data-total-ns"))
    hidden = int(root.get("data-hidden-ns"))
    self_by_name = Counter()
    self_sum = 0
    by_depth = defaultdict(list)
    for g in frames:
        d, x, w = int(g.get("data-d")), float(g.get("data-x")), float(g.get("data-w"))
        t, s = int(g.get("data-t")), int(g.get("data-s"))
        if g.find(SVG + "title") is None or g.find(SVG + "rect") is None:
            fail("frame without title or rect")
        if s > t:
            fail("frame %s: self %d > total %d" % (g.get("data-n"), s, t))
        by_depth[d].append((x, w, t))
        if d > 0:
            self_by_name[g.get("data-n")] += s
            self_sum += s
    if by_depth[0] != [(0.0, 1.0, total)] and total:
        fail("root frame is %r, total %d" % (by_depth[0], total))
    for d, fs in by_depth.items():
        if d == 0:
            continue
        for x, w, t in fs:
            if not any(px - 1e-9 <= x and x + w <= px + pw + 1e-9 for px, pw, _ in by_depth[d - 1]):
                fail("frame at depth %d, x %f lies outside every frame below" % (d, x))
    # the root has no self time in a one-process graph: all is in frames
    if self_sum + hidden != total:
        fail("frames' self time %d + hidden %d != total %d" % (self_sum, hidden, total))
    print("total %d" % total)
    print("hidden %d" % hidden)
    for name in sorted(self_by_name):
        print("self %s %d" % (name, self_by_name[name]))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("chrome", "svg"):
        fail("usage: check_export.py chrome|svg FILE")
    {"chrome": chrome, "svg": svg}[sys.argv[1]](sys.argv[2])
