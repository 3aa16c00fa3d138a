"""The image report cuts its long lists with a count and elides long paths (issue 15)."""

from __future__ import annotations

from dataclasses import replace

from layerlens.image.reader import read_image
from layerlens.image.secrets import SecretFinding
from layerlens.textfit import cells
from layerlens.textreport import image_text

from ..conftest import IMAGES


def test_long_lists_end_with_a_count_and_paths_fit() -> None:
    img = read_image(str(IMAGES / "test-docker-image.tar"))
    deep = "/".join(["very-long-directory-name"] * 8) + "/id_rsa"
    secrets = tuple(SecretFinding("file", 1, f"{deep}{k}", "private key") for k in range(25))
    stored = tuple((f"{deep}/file{k}.bin", 4096 * (k + 1), 2) for k in range(13))
    text = image_text(replace(img, secrets=secrets, inefficient_files=stored), width=60)
    lines = text.splitlines()
    assert all(cells(x) <= 60 for x in lines), [x for x in lines if cells(x) > 60]
    assert "  and 5 more (--format json lists them all)" in lines  # secrets: 20 shown
    assert "  and 3 more (--format json lists them all)" in lines  # stored twice: 10 shown
    # a stored-twice path keeps its start and its file name around the "…"
    row = next(x for x in lines if "file0.bin" in x)
    assert "/very-long" in row and "…" in row
