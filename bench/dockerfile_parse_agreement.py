#!/usr/bin/env python3
"""How often dockerfile-parse agrees with BuildKit on the conformance cases.

Counts a case as agreeing when dockerfile-parse yields the same instruction keywords and
line ranges and, for accepted files, the same final ENV of the last stage. This is the
measurement behind reading Dockerfiles with our own BuildKit-faithful layer.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "conformance" / "dockerfile"


def main() -> int:
    from dockerfile_parse import DockerfileParser

    agree = total = 0
    for df in sorted(CASES.glob("*.Dockerfile")):
        want = json.loads(df.with_name(df.name.replace(".Dockerfile", ".expected.json"))
                          .read_text())
        total += 1
        try:
            p = DockerfileParser(fileobj=io.BytesIO(df.read_bytes()))
            got = [(i["instruction"].lower(), i["startline"] + 1, i["endline"] + 1)
                   for i in p.structure if i["instruction"] != "COMMENT"]
            env = p.envs
        except Exception:
            continue
        if want["error"]:
            continue  # dockerfile-parse validates nothing, so it never rejects
        exp = [(i["keyword"], i["start_line"], i["end_line"]) for i in want["instructions"]]
        exp_env = dict(want["stages"][-1]["env"]) if want["stages"] else {}
        if got == exp and dict(env) == exp_env:
            agree += 1
    print(f"dockerfile-parse agrees with BuildKit on {agree}/{total} conformance cases "
          f"({100 * agree / total:.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
