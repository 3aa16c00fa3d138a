"""JSON output is valid UTF-8 whatever the names in it and the terminal's encoding."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from layerlens.jsonout import clean, dumps, escape_text

from .imagekit import Layout


def _raw_name_layer(name: bytes, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as t:
        ti = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_escape_is_reversible_and_leaves_valid_names_alone() -> None:
    assert escape_text("café/ü") == "café/ü"
    raw = b"dir\\x/caf\xe9"
    s = escape_text(raw.decode("utf-8", "surrogateescape"))
    assert s == "dir\\\\x/caf\\xe9"
    s.encode("utf-8")
    assert clean({"k\udce9": ["a\udcff", 1, None]}) == {"k\\xe9": ["a\\xff", 1, None]}
    assert json.loads(dumps({"n": "\udce9"})) == {"n": "\\xe9"}


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def test_image_json_with_a_latin1_file_name(tmp_path: Path) -> None:
    name = b"etc/caf\xe9.conf"
    lay = Layout()
    # the same name in two layers: it shows up among dive's inefficient files
    lay.tag(lay.image([_raw_name_layer(name, b"x" * 10), _raw_name_layer(name, b"y" * 20)]),
            "latest")
    archive = lay.write_tar(tmp_path / "img.tar")
    out = tmp_path / "out.json"
    for env in (_env(), _env(PYTHONIOENCODING="ascii"), _env(LC_ALL="C", LANG="C")):
        res = subprocess.run([sys.executable, "-m", "layerlens", "image", "--format", "json",
                              str(archive)], capture_output=True, env=env)
        assert res.returncode == 0, res.stderr
        doc = json.loads(res.stdout.decode("utf-8"))  # strict: fails on invalid UTF-8
        paths = [f["path"] for f in doc["inefficient_files"]]
        assert paths == ["/etc/caf\\xe9.conf"], paths
        res = subprocess.run([sys.executable, "-m", "layerlens", "image", "--format", "json",
                              "-o", str(out), str(archive)], capture_output=True, env=env)
        assert res.returncode == 0, res.stderr
        json.loads(out.read_bytes().decode("utf-8"))
        # text for people works under an ASCII terminal too
        res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(archive)],
                             capture_output=True, env=env)
        assert res.returncode == 0, res.stderr


def test_analyze_json_with_a_latin1_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM scratch\nLABEL who=\"Jos\xe9\"\n"
                                          b"COPY caf\xe9 /x\n")
    (tmp_path / "caf\xe9".encode("latin-1").decode("utf-8", "surrogateescape")).write_bytes(
        b"1")
    for env in (_env(), _env(PYTHONIOENCODING="ascii")):
        res = subprocess.run([sys.executable, "-m", "layerlens", "analyze", "--no-history",
                              "--format", "json", str(tmp_path / "Dockerfile")],
                             capture_output=True, env=env, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        text = res.stdout.decode("utf-8")
        json.loads(text)
        assert "\\\\xe9" in text  # the escaped byte, as JSON writes a backslash


def test_image_text_escapes_each_name_as_json_does(tmp_path: Path) -> None:
    bad, good = b"d/caf\xe9.txt", "d/ünï\\back".encode()
    lay = Layout()  # both names in two layers: both are listed among dive's wasted files
    lay.tag(lay.image([_raw_name_layer(bad, b"1"), _raw_name_layer(bad, b"22"),
                       _raw_name_layer(good, b"1"), _raw_name_layer(good, b"22")]), "latest")
    archive = lay.write_tar(tmp_path / "img.tar")
    shown = {}
    for label, env in (("utf8", _env(PYTHONIOENCODING="utf-8")),
                       ("ascii", _env(PYTHONIOENCODING="ascii"))):
        res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(archive)],
                             capture_output=True, env=env)
        assert res.returncode == 0, res.stderr
        shown[label] = res.stdout.decode("utf-8")  # strict: valid UTF-8 (and ASCII) only
    assert "/d/caf\\xe9.txt" in shown["utf8"]
    assert "/d/ünï\\back" in shown["utf8"]  # a valid name: its backslash is not doubled
    assert "/d/caf\\xe9.txt" in shown["ascii"]
    assert "/d/\\u00fcn\\u00ef\\back" in shown["ascii"]  # \u, never \xfc: that is a byte
    assert shown["ascii"].isascii()
    out = tmp_path / "out.txt"
    res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(archive), "-o",
                          str(out)], capture_output=True, env=_env())
    assert res.returncode == 0, res.stderr
    assert out.read_bytes().decode("utf-8") == shown["utf8"]
