#!/usr/bin/env python3
"""Groonga commands (on stdout) that load `kyoso load-seed`'s docs.jsonl: the same
need/offer documents kyoso's search serves, with the columns its facets use, and a
TokenMecab + NormalizerAuto index over title and body (as shared/bench/harness.py
builds it; the index is created after the load so Groonga builds it offline).

    python3 groonga_load.py docs.jsonl | groonga -n DB
"""
import json
import sys

FACETS = ["policy_field", "municipality", "zone", "partner_kind", "status", "doc_type"]


def main():
    out = sys.stdout
    out.write("table_create Docs TABLE_HASH_KEY ShortText\n")
    out.write("column_create Docs title COLUMN_SCALAR ShortText\n")
    out.write("column_create Docs body COLUMN_SCALAR Text\n")
    out.write("column_create Docs type COLUMN_SCALAR ShortText\n")
    for f in FACETS:
        out.write("column_create Docs %s COLUMN_SCALAR ShortText\n" % f)
    batch = []

    def flush():
        if batch:
            out.write("load --table Docs\n")
            out.write(json.dumps(batch, ensure_ascii=False))
            out.write("\n")
            batch.clear()

    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            batch.append({
                "_key": d["id"], "title": d["title"], "body": d["body"], "type": d["type"],
                "policy_field": d.get("policy_field") or "",
                "municipality": d.get("municipality") or "",
                "zone": d.get("zone") or "", "partner_kind": d.get("partner_kind") or "",
                "status": d.get("status") or "", "doc_type": d["type"],
            })
            if len(batch) >= 10000:
                flush()
    flush()
    out.write("table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenMecab "
              "--normalizer NormalizerAuto\n")
    out.write("column_create Terms docs_index COLUMN_INDEX|WITH_POSITION|WITH_SECTION Docs title,body\n")


if __name__ == "__main__":
    main()
