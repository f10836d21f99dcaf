#!/usr/bin/env python3
"""Adds translations to locales/messages.json, kept sorted: a JSON object on stdin,
{"English text": ["de", "fr", "it"], ...}. The messages test then checks them."""
import json
import sys

path = "locales/messages.json"
catalogue = json.load(open(path))
for en, (de, fr, it) in json.load(sys.stdin).items():
    catalogue[en] = {"de": de, "fr": fr, "it": it}
ordered = dict(sorted(catalogue.items(), key=lambda kv: kv[0].lower()))
with open(path, "w") as f:
    json.dump(ordered, f, ensure_ascii=False, indent=2)
    f.write("\n")
print(f"{path}: {len(ordered)} messages")
