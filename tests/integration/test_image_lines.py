"""`layerlens image -f Dockerfile`: layers map to lines only where the history matches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from layerlens.dockerfile import parse
from layerlens.image.lines import map_layers_checked
from layerlens.image.reader import read_image

from .imagekit import Layout, layer_tar


def _image(tmp_path: Path) -> Path:
    lay = Layout()  # history: "RUN step 0", "RUN step 1" (kaniko's form)
    lay.tag(lay.image([layer_tar([("a", b"a")]), layer_tar([("b", b"b")])]), "latest")
    return lay.write_tar(tmp_path / "i.tar")


def test_matching_dockerfile_maps_every_layer(tmp_path: Path) -> None:
    img = read_image(str(_image(tmp_path)))
    got, note = map_layers_checked(img, parse("FROM scratch\nRUN step 0\nRUN step 1\n"))
    assert [s.line for s in got] == [2, 3] and note is None


def test_other_dockerfile_leaves_layers_unmapped_and_says_so(tmp_path: Path) -> None:
    img = read_image(str(_image(tmp_path)))
    got, note = map_layers_checked(img, parse("FROM scratch\nRUN make\nRUN make test\n"))
    assert [s.line for s in got] == [None, None]
    assert [s.base for s in got] == [None, None]
    assert note and "matches none of the Dockerfile's instructions" in note
    got, note = map_layers_checked(img, parse("FROM scratch\nRUN step 0\nRUN apt-get x\n"))
    assert [s.line for s in got] == [2, None]
    assert note and "layer 1 matches no instruction" in note


def test_cli_warns_and_writes_null_lines(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM scratch\nRUN make\nRUN make test\n")
    res = subprocess.run([sys.executable, "-m", "layerlens", "image", str(_image(tmp_path)),
                          "-f", str(df), "--format", "json"], capture_output=True, text=True,
                         timeout=60)
    doc = json.loads(res.stdout)
    assert [lay["line"] for lay in doc["layers"]] == [None, None]
    assert any("matches none" in w for w in doc["warnings"])
