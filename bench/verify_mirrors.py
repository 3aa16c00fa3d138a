"""`suggest --write --verify` on the FROM-scratch mirrors of the samples (the projects of
tests/integration/test_suggest_safety.py), safe fixes only and with --unsafe-fixes.

Usage: python bench/verify_mirrors.py [PROJECT...]   (buildah as root; a few minutes)
Prints, per project and mode, the fixes applied and the verdict of the real build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.test_suggest_safety import PROJECTS, make_project


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="verify-mirrors-"))
    env = {**os.environ, "LAYERLENS_VERIFY_STORAGE": str(tmp / "store")}
    wanted = set(sys.argv[1:]) or set(PROJECTS)
    for name, (files, edits) in sorted(PROJECTS.items()):
        if name not in wanted:
            continue
        for mode in ("safe", "unsafe"):
            repo = make_project(tmp / f"{name}-{mode}", files, edits)
            flags = ["--unsafe-fixes"] if mode == "unsafe" else []
            res = subprocess.run([sys.executable, "-m", "layerlens", "suggest", str(repo.root),
                                  "--format", "json", "--write", "--verify", *flags],
                                 capture_output=True, text=True, env=env, timeout=1800)
            doc = json.loads(res.stdout)
            v = doc.get("verify")
            verdict = "nothing to verify" if v is None else (
                "identical" if v["identical"] else f"refused: {v['error'] or v['differences']}")
            applied = [f"{a['rule']}:{a['fix']}" for a in doc["applied"]]
            print(f"{name:8} {mode:6} applied={applied} verify={verdict}"
                  + (f" intended={len(v['intended'])}" if v and v["intended"] else ""))


if __name__ == "__main__":
    main()
