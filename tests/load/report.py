#!/usr/bin/env python3
"""The load run's report: a markdown table on stdout and the figures as JSON.

    report.py RESULTS.jsonl OUT.json WORKDIR SCALE DURATION MACHINE
"""
import datetime
import glob
import json
import os
import sys

results_path, json_out, work, scale, duration, machine = sys.argv[1:7]
rows = [json.loads(l) for l in open(results_path, encoding="utf-8") if l.strip()]
seeding = {}
for path in sorted(glob.glob(os.path.join(work, "seed-*.txt"))):
    seeding[os.path.basename(path)[5:-4]] = open(path, encoding="utf-8").read()

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
print("## kyoso load run, %s\n" % now)
print("scale %s, wrk 2 threads / 16 connections / %s per route, one route after the other; %s\n"
      % (scale, duration, machine))
print("| configuration | route | req/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors | statuses |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
memory = []
for r in rows:
    if r["route"].startswith("memory"):
        memory.append(r)
        continue
    if "rps" not in r:
        if r["route"] != "load":
            print("| %s | %s | failed: %s | | | | | | |" % (r["config"], r["route"], r.get("error", "?")))
        continue
    route = "select (Groonga HTTP)" if r["config"] == "groonga" else r["route"]
    print("| %s | %s | %.0f | %.1f | %.1f | %.1f | %d | %d | %s |" % (
        r["config"], route, r["rps"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["non_2xx"],
        r["socket_errors"], " ".join("%s×%s" % kv for kv in sorted(r.get("statuses", {}).items()))))
print("\n| configuration | process | peak memory (VmHWM) |")
print("|---|---|---:|")
for m in memory:
    print("| %s | %s | %.0f MiB |" % (m["config"], m["route"][7:], m.get("vmhwm_kb", 0) / 1024))
for name, text in seeding.items():
    print("\nseeding %s:\n```\n%s```" % (name, text))
json.dump({"date": now, "scale": scale, "duration": duration, "machine": machine,
           "results": rows, "seeding": seeding}, open(json_out, "w", encoding="utf-8"),
          ensure_ascii=False, indent=1)
print("\n(JSON: %s)" % json_out)
