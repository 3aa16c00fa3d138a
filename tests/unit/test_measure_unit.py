"""`layerlens measure` without a builder: buildah output parsing, step matching, chain keys
and the missing-builder error (layerlens/measure.py, layerlens/cache/measured.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerlens.cache.measured import chain_keys
from layerlens.cache.ops import build_plan
from layerlens.context.patterns import Matcher
from layerlens.context.tree import scan_context
from layerlens.dockerfile import parse
from layerlens.measure import match_buildah, parse_buildah

BUILDAH = """\
[1/2] STEP 1/3: FROM scratch AS build
[1/2] STEP 2/3: COPY busybox /bin/busybox
--> 9325e6fced7
[1/2] STEP 3/3: RUN ["/bin/busybox", "sleep", "1"]
some output of the step
--> a8a8b82e952
[2/2] STEP 1/3: FROM scratch
[2/2] STEP 2/3: ENV A=1
--> 7883d63526b
[2/2] STEP 3/3: COPY --from=build /bin/busybox /bin/busybox
[2/2] COMMIT localhost/x
--> 3571135a9d8
Successfully tagged localhost/x:latest
"""
DF = ('FROM scratch AS build\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sleep", "1"]\n'
      "FROM scratch\nENV A=1\nCOPY --from=build /bin/busybox /bin/busybox\n")


def test_buildah_steps_run_from_their_step_line_to_the_commit() -> None:
    lines = [(float(n), line) for n, line in enumerate(BUILDAH.splitlines())]
    steps = parse_buildah(lines)
    got = {(s.stage, s.step): s.seconds for s in steps}
    assert got[("stage-0", 2)] == 1.0  # line 1 -> the --> on line 2
    assert got[("stage-0", 3)] == 2.0  # output lines in between belong to the step
    assert got[("stage-1", 1)] == 1.0  # FROM: no commit line, ends at the next step
    assert got[("stage-1", 3)] == 2.0  # the last step includes the image commit
    seconds = match_buildah(steps, parse(DF))
    assert seconds == {0: 1.0, 1: 1.0, 2: 2.0, 3: 1.0, 4: 1.0, 5: 2.0}  # FROM too


def test_cached_and_unfinished_steps_have_no_time() -> None:
    out = "STEP 1/3: FROM scratch\nSTEP 2/3: COPY a /a\n--> Using cache abc\nSTEP 3/3: RUN x\n"
    steps = parse_buildah((float(n), x) for n, x in enumerate(out.splitlines()))
    assert [(s.step, s.seconds, s.cached) for s in steps] == [
        (1, 1.0, False), (2, None, True), (3, None, False)]


def test_a_step_whose_keyword_does_not_match_is_not_taken() -> None:
    steps = parse_buildah([(0.0, "STEP 2/2: RUN x"), (1.0, "--> abc")])
    assert match_buildah(steps, parse("FROM scratch\nCOPY a /a\n")) == {}


def _keys(root: Path, text: str) -> dict[str, str]:
    df = parse(text)
    return chain_keys(build_plan(df), scan_context(root, Matcher([], "")))


def test_chain_keys_change_with_the_instruction_its_inputs_and_what_is_above(
        tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("1")
    text = "FROM scratch\nCOPY a /a\nRUN true\nCOPY b /b\nRUN echo x\n"
    k1 = _keys(tmp_path, text)
    assert _keys(tmp_path, text) == k1  # stable across runs (never Python's hash())
    (tmp_path / "b").write_text("22")
    k2 = _keys(tmp_path, text)
    changed = {i.split("\0")[1] for i in k1 if k1[i] != k2[i]}
    assert changed == {"COPY b /b", "RUN echo x"}
    k3 = _keys(tmp_path, text.replace("RUN true", "RUN true && true"))
    assert {i.split("\0")[1] for i in k3 if k1.get(i) == k3[i]} == {"COPY a /a"}


def test_no_builder_is_one_line_and_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    from layerlens import cli
    from layerlens.suggest import proof

    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (tmp_path / "a").write_text("x")
    monkeypatch.setattr(proof, "find_builder", lambda storage=None: None)
    assert cli.main(["measure", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no builder found" in err


@pytest.mark.parametrize("bad", ["--pullers", "--image"])
def test_measure_takes_no_history_or_image_options(bad: str) -> None:
    from layerlens import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["measure", bad, "x"])
    assert exc.value.code == 2


FAKE_DOCKER = '''#!{python}
import json, sys
args = sys.argv[1:]
if args[:2] == ["buildx", "version"]:
    print("github.com/docker/buildx v0.12.0")
    sys.exit(0)
open({argv_file!r}, "w").write(json.dumps(args))
def v(d, name, start, end):
    return json.dumps({{"vertexes": [{{"digest": d, "name": name,
        "started": "2026-01-01T10:00:" + start + "Z",
        "completed": "2026-01-01T10:00:" + end + "Z"}}]}})
for line in (v("sha256:a", "[stage-0 2/3] COPY a /a", "00.000", "01.500"),
             v("sha256:b", "[stage-0 3/3] RUN make", "01.500", "08.750")):
    print(line, file=sys.stderr)
'''


def test_docker_buildx_steps_come_from_rawjson(tmp_path: Path) -> None:
    """No buildah or podman on PATH, a docker with buildx: the build runs with
    --progress=rawjson and no cache, and the vertex times are recorded."""
    import json
    import os
    import subprocess
    import sys

    bindir = tmp_path / "bin"
    bindir.mkdir()
    argv_file = tmp_path / "argv.json"
    fake = bindir / "docker"
    fake.write_text(FAKE_DOCKER.format(python=sys.executable, argv_file=str(argv_file)))
    fake.chmod(0o755)
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "Dockerfile").write_text("FROM scratch\nCOPY a /a\nRUN make\n")
    (proj / "a").write_text("x")
    env = {**os.environ, "PATH": str(bindir), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("LAYERLENS_VERIFY_STORAGE", None)
    res = subprocess.run([sys.executable, "-m", "layerlens", "measure", str(proj), "--format",
                          "json", "--build-arg", "V=1"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["builder"] == "docker buildx"
    assert {s["line"]: s["seconds"] for s in doc["steps"]} == {2: 1.5, 3: 7.25}
    argv = json.loads(argv_file.read_text())
    assert argv[:2] == ["buildx", "build"] and "--no-cache" in argv
    assert "--progress=rawjson" in argv and "type=cacheonly" in argv
    assert "--build-arg=V=1" in argv
    stored = json.loads(Path(doc["store"]).read_text())
    assert sorted(v["seconds"] for v in stored["steps"].values()) == [1.5, 7.25]
