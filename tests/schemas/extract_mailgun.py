"""Regenerate tests/schemas/mailgun/*.json from Mailgun's OpenAPI spec.

Usage: python tests/schemas/extract_mailgun.py path/to/mailgun-openapi.yaml [out_dir]

The tests validate simulator answers against these files, so they never read the spec
at run time. Each file is self-contained: every `$ref` is resolved inline and `x-*`
vendor keys are dropped. Two known spec defects are corrected, and each file's
`$comment` records which corrections touched it:

* `created_at` points at `RFC822Time`, declared `type: object` (a Go time type leaking
  into the spec). Real responses carry a string such as "Sun, 26 Jan 2025 07:29:04 UTC".
* The events list answer marks nothing required. The docs say `next` and `previous` are
  always returned, and the monitor depends on both `items` and `paging`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

RFC822_REF = "#/components/schemas/github.com-mailgun-mime-RFC822Time"
RFC2822_UTC_PATTERN = r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (UTC|GMT|[+-]\d{4})$"

# file name -> (path, method, status) of the answer whose JSON schema it holds
TARGETS: dict[str, tuple[str, str, str]] = {
    "bounces_list": ("/v3/{domain_name}/bounces", "get", "200"),
    "complaints_list": ("/v3/{domain_name}/complaints", "get", "200"),
    "unsubscribes_list": ("/v3/{domain_name}/unsubscribes", "get", "200"),
    "bounce": ("/v3/{domain_name}/bounces/{address}", "get", "200"),
    "complaint": ("/v3/{domain_name}/complaints/{address}", "get", "200"),
    "unsubscribe": ("/v3/{domain_name}/unsubscribes/{address}", "get", "200"),
    "suppression_deleted": ("/v3/{domain_name}/bounces/{address}", "delete", "200"),
    "error": ("/v3/{domain_name}/bounces/{address}", "get", "404"),
    "events_list": ("/v3/{domain_name}/events", "get", "200"),
    "message_sent": ("/v3/{domain_name}/messages", "post", "200"),
}


class Resolver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.corrections: set[str] = set()

    def lookup(self, ref: str) -> Any:
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def resolve(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [self.resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if self._is_rfc822_time(node):
            self.corrections.add("created_at is an RFC 2822 string, not an object")
            out = {"type": "string", "pattern": RFC2822_UTC_PATTERN}
            if "description" in node:
                out["description"] = node["description"]
            return out
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"recursive $ref {ref}: cannot inline")
            return self.resolve(self.lookup(ref), (*seen, ref))
        return {k: self.resolve(v, seen) for k, v in node.items() if not k.startswith("x-")}

    @staticmethod
    def _is_rfc822_time(node: dict[str, Any]) -> bool:
        if node.get("$ref") == RFC822_REF:
            return True
        return any(isinstance(s, dict) and s.get("$ref") == RFC822_REF for s in node.get("allOf", []))


def tighten_events(schema: dict[str, Any], resolver: Resolver) -> None:
    resolver.corrections.add("items, paging, paging.next and paging.previous are always returned")
    schema["required"] = ["items", "paging"]
    schema["properties"]["paging"]["required"] = ["next", "previous"]


def extract(spec: dict[str, Any], name: str) -> dict[str, Any]:
    path, method, status = TARGETS[name]
    operation = spec["paths"][path][method]
    raw = operation["responses"][status]["content"]["application/json"]["schema"]
    resolver = Resolver(spec)
    schema = resolver.resolve(raw)
    if name == "events_list":
        tighten_events(schema, resolver)
    comment = f"Extracted from Mailgun OpenAPI {method.upper()} {path} -> {status}."
    if resolver.corrections:
        comment += " Corrected: " + "; ".join(sorted(resolver.corrections)) + "."
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$comment": comment, **schema}


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    spec = yaml.safe_load(Path(argv[1]).read_text(encoding="utf-8"))
    out_dir = Path(argv[2]) if len(argv) == 3 else Path(__file__).parent / "mailgun"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TARGETS:
        text = json.dumps(extract(spec, name), indent=2, ensure_ascii=False) + "\n"
        (out_dir / f"{name}.json").write_text(text, encoding="utf-8")
        print(f"wrote {out_dir / name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
