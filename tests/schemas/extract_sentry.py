"""Regenerate tests/schemas/sentry/*.json from Sentry's OpenAPI spec.

Usage: python tests/schemas/extract_sentry.py path/to/sentry-openapi.json [out_dir]

The tests validate the simulator's answers against these files, so they never read the spec
at run time. Each file is a self-contained JSON Schema (draft 7): `$ref`s are inlined, and
OpenAPI 3.0's `nullable: true` becomes a `"null"` member of `type` (and of `enum`), which is
what jsonschema understands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ORG = "/api/0/organizations/{organization_id_or_slug}"

# output file name -> path in the spec (all GET, status 200, application/json)
SCHEMAS = {
    "list_organization_issues": f"{ORG}/issues/",
    "get_organization_issue": f"{ORG}/issues/{{issue_id}}/",
    "list_organization_issue_events": f"{ORG}/issues/{{issue_id}}/events/",
    "get_organization_issue_event": f"{ORG}/issues/{{issue_id}}/events/{{event_id}}/",
}


def resolve(node: Any, spec: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Inline `$ref`s and translate `nullable`, recursively."""
    if isinstance(node, list):
        return [resolve(item, spec, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:  # a recursive schema: stop instead of looping
            return {}
        return resolve(lookup(spec, ref), spec, (*seen, ref))
    out = {key: resolve(value, spec, seen) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        make_nullable(out)
    return out


def make_nullable(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]


def lookup(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported: {ref}")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def extract(spec: dict[str, Any], path: str) -> dict[str, Any]:
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema: dict[str, Any] = resolve(content["schema"], spec)
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": f"GET {path}", **schema}


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[1]).read_text())
    out_dir = Path(argv[2]) if len(argv) == 3 else Path(__file__).parent / "sentry"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, path in SCHEMAS.items():
        target = out_dir / f"{name}.json"
        target.write_text(json.dumps(extract(spec, path), indent=2, sort_keys=True) + "\n")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
