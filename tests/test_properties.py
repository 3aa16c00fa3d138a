"""Property-based tests: no exception but layerlens' own, and rewrites that round-trip."""

from __future__ import annotations

import gzip
import io
import tarfile

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from layerlens import fuzzing
from layerlens.dockerfile import parse
from layerlens.suggest.rewrite import move_after, move_before, reorder

from .conftest import CONFORMANCE, IMAGES

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = st.sampled_from(list("FROMRUNCOPYENVARGfromrun \t\n\\`$#{}:-+%/'\"=<>[],.\r\x00é"))
df_text = st.one_of(st.text(ALPHABET, max_size=300), st.binary(max_size=300).map(
    lambda b: b.decode("latin-1")))
CORPUS = [p.read_bytes() for p in sorted((CONFORMANCE / "dockerfile").glob("*.Dockerfile"))]


def _mutate(seed: bytes, cuts: list[int], junk: bytes) -> bytes:
    out = bytearray(seed)
    for c in cuts:
        if out:
            i = c % len(out)
            out[i:i + 1] = junk[:1] if junk else b""
    return bytes(out)


@FAST
@given(df_text)
def test_dockerfile_reader_only_raises_its_own_errors(text: str) -> None:
    fuzzing.dockerfile(text.encode("utf-8", "surrogatepass"))


@FAST
@given(st.sampled_from(CORPUS), st.lists(st.integers(0, 10_000), max_size=8),
       st.binary(max_size=3))
def test_mutated_conformance_files(seed: bytes, cuts: list[int], junk: bytes) -> None:
    fuzzing.dockerfile(_mutate(seed, cuts, junk))


@FAST
@given(st.text(st.sampled_from(list("$A{}:-+?#%/\\`'\" xPX_EMPTY*.")), max_size=60))
def test_expansion_only_raises_its_own_errors(word: str) -> None:
    fuzzing.expansion(word.encode())


@FAST
@given(st.text(st.sampled_from(list("!*?[]^\\/. \n#abc-")), max_size=80))
def test_dockerignore_only_raises_its_own_errors(text: str) -> None:
    fuzzing.dockerignore(text.encode())


def _tar(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


LAYER = _tar([("a/b", b"x" * 700), ("a/.wh.c", b""), ("d", b"y")])


@FAST
@given(st.lists(st.integers(0, 100_000), max_size=6), st.binary(max_size=4), st.booleans())
@example([3, 4, 5, 101], b"\x0c", False)  # a form feed in the mode field: ValueError once
def test_layer_walker_on_mutated_tars(cuts: list[int], junk: bytes, gz: bool) -> None:
    blob = _mutate(LAYER, cuts, junk)
    fuzzing.layer(gzip.compress(blob) if gz else blob)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["test-oci-gzip-image.tar", "test-oci-zstd-image.tar",
                        "test-oci-uncompressed-image.tar"]),
       st.lists(st.integers(0, 1_000_000), min_size=1, max_size=4), st.binary(max_size=2))
def test_archive_reader_on_mutated_archives(name: str, cuts: list[int], junk: bytes) -> None:
    fuzzing.archive(_mutate((IMAGES / name).read_bytes(), cuts, junk))


INSTR = st.sampled_from(["RUN make", "COPY a /a", "COPY b /b", "ENV X=1", "LABEL l=v",
                         "WORKDIR /w", "RUN apt-get install -y x", "EXPOSE 80",
                         "# a comment", "", "ARG V=1", "RUN echo $V"])


@FAST
@given(st.lists(INSTR, min_size=2, max_size=10), st.data())
def test_rewrites_round_trip(lines: list[str], data) -> None:
    text = "FROM scratch\n" + "\n".join(lines) + "\n"
    df = parse(text)
    members = list(df.stages[0].instructions[1:])
    if len(members) < 2:
        return
    # the identity order reproduces the text exactly
    assert reorder(df, 0, members) == text
    order = data.draw(st.permutations(members))
    new = parse(reorder(df, 0, order))
    key = sorted(i.original for i in df.instructions)
    assert sorted(i.original for i in new.instructions) == key
    assert [i.original for i in new.instructions[1:]] == [
        df.instructions[i].original for i in order]
    a, b = data.draw(st.sampled_from(members)), data.draw(st.sampled_from(members))
    if a != b:
        for moved in (move_before(df, df.instructions[a], df.instructions[b]),
                      move_after(df, df.instructions[a], df.instructions[b])):
            assert sorted(i.original for i in parse(moved).instructions) == key
