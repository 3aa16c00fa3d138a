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


KEY = (b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n"
       b"-----END OPENSSH PRIVATE KEY-----\n")


def test_every_image_json_output_is_valid_utf8(tmp_path: Path) -> None:
    """Every command that reads an image and writes JSON (stdout and -o): an undecodable
    byte in a file name, a secret file's path and the archive's own path is escaped."""
    dup, secret = b"etc/caf\xe9.conf", b"home/jos\xe9/.ssh/id_rsa"
    lay = Layout()
    lay.tag(lay.image([_raw_name_layer(dup, b"x" * 10), _raw_name_layer(dup, b"y" * 20),
                       _raw_name_layer(secret, KEY)]), "latest")
    where = tmp_path / b"caf\xe9".decode("utf-8", "surrogateescape")
    where.mkdir()
    archive = lay.write_tar(where / "img.tar")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (tmp_path / "a").write_text("a")
    dockerfile = str(tmp_path / "Dockerfile")
    baseline = tmp_path / "baseline.json"
    common = ["--no-history", "--image", str(archive)]
    runs = [
        ["image", "--format", "json", str(archive)],
        ["analyze", *common, "--format", "json", dockerfile],
        ["suggest", *common, "--format", "json", dockerfile],
        ["suggest", *common, "--format", "sarif", dockerfile],
        ["check", *common, "--baseline", str(baseline), "--format", "json", dockerfile],
        ["check", *common, "--baseline", str(baseline), "--format", "sarif", dockerfile],
    ]
    res = subprocess.run([sys.executable, "-m", "layerlens", "baseline", *common, "-o",
                          str(baseline), dockerfile], capture_output=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    docs = [json.loads(baseline.read_bytes().decode("utf-8"))]
    for env in (_env(), _env(PYTHONIOENCODING="ascii")):
        for args in runs:
            res = subprocess.run([sys.executable, "-m", "layerlens", *args],
                                 capture_output=True, env=env, cwd=tmp_path)
            assert res.returncode in (0, 1), (args, res.stderr)
            docs.append(json.loads(res.stdout.decode("utf-8")))  # strict UTF-8
            out = tmp_path / "out.json"
            res = subprocess.run([sys.executable, "-m", "layerlens", *args, "-o", str(out)],
                                 capture_output=True, env=env, cwd=tmp_path)
            assert res.returncode in (0, 1), (args, res.stderr)
            docs.append(json.loads(out.read_bytes().decode("utf-8")))
    image = json.dumps(docs[1])
    # the names, escaped as the module doc of layerlens.jsonout says
    assert "/etc/caf\\\\xe9.conf" in image
    assert "home/jos\\\\xe9/.ssh/id_rsa" in image
    assert "caf\\\\xe9/img.tar" in image
