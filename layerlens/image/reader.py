"""Read an image into an `Image`: one streaming pass per layer, digests checked on the way."""

from __future__ import annotations

import contextlib
import http.client
import sys
from collections.abc import Callable
from dataclasses import replace

from layerlens.errors import LayerlensError
from layerlens.image.archive import Resolved, _matches, check_platform, open_image
from layerlens.image.layers import Accountant
from layerlens.image.model import HistoryEntry, Image, Layer
from layerlens.image.secrets import (
    MAX_CONTENT,
    SecretFinding,
    file_finding,
    history_findings,
    maybe_secret,
    value_finding,
)
from layerlens.image.tarstream import (
    ChunkReader,
    ImageError,
    LayerStream,
    Limits,
    iter_tar,
)


def _history(config: dict, n_layers: int) -> tuple[list[HistoryEntry], list[str]]:
    warnings: list[str] = []
    raw = config.get("history") or []
    if not isinstance(raw, list):
        raw = []
    non_empty = sum(1 for h in raw if isinstance(h, dict) and not h.get("empty_layer"))
    # When history and layers disagree, align them from the end: the image's own layers are
    # the newest, and base images sometimes ship without history.
    offset = n_layers - non_empty
    if raw and offset != 0:
        warnings.append(f"history lists {non_empty} layers but the image has {n_layers}; "
                        "aligned from the newest")
    out: list[HistoryEntry] = []
    layer = offset
    for i, h in enumerate(raw):
        if not isinstance(h, dict):
            continue
        empty = bool(h.get("empty_layer"))
        idx = None
        if not empty:
            idx = layer if 0 <= layer < n_layers else None
            layer += 1
        out.append(HistoryEntry(i, h.get("created"), str(h.get("created_by") or ""), empty,
                                h.get("comment"), idx))
    return out, warnings


def _check_single_platform(platform: str | None, res: Resolved) -> None:
    """An image of one platform (no index to choose from) must be the one asked for: reading
    a linux/arm64 image as linux/amd64 without a word would report the wrong image."""
    if platform is None or res.platform is None or "?" in res.platform.split("/")[:2]:
        return
    if not _matches(check_platform(platform) or platform, res.platform):
        raise ImageError(f"--platform {platform} asked for, but the image is "
                         f"{res.platform} only", path=res.source)


# The GIL switch interval while a layer is read. Three threads share a layer (read and hash,
# inflate, walk the tar); the two in C release the GIL for each 1 MiB buffer and must get it
# back to start the next. At CPython's default 5 ms slice they wait for the walker that
# long: on the 1 GiB bench image (bench/image_read.py, an idle 2-core machine) the read took
# 5.65 s at 5 ms, 5.38 s at 1 ms, 4.26 s at 0.2 ms and 4.37 s at 0.1 ms, against 4.18 s
# for isal's inflate alone.
_READ_SWITCH_INTERVAL = 0.0002


@contextlib.contextmanager
def _short_gil_slices():
    old = sys.getswitchinterval()
    sys.setswitchinterval(min(old, _READ_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def read_image(
    ref: str,
    *,
    platform: str | None = None,
    keep_files: bool = False,
    hash_files: bool = False,
    limits: Limits | None = None,
    progress: Callable[[str], None] | None = None,
    tls_verify: bool | None = None,
) -> Image:
    """Read REF (see `layerlens.image.refs`) in one streaming pass per layer.

    PLATFORM picks from a multi-platform index; KEEP_FILES keeps every entry for browsing,
    HASH_FILES also hashes file contents (for the final tree); LIMITS bounds each layer;
    TLS_VERIFY applies to registries (None: the process default). Raises ImageError (one
    line naming the input) for anything unreadable, ambiguous or past the limits.
    """
    lim = limits or Limits()
    say = progress or (lambda _m: None)
    with _short_gil_slices(), open_image(ref, platform, tls_verify=tls_verify) as res:
        _check_single_platform(platform, res)
        config = res.config
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        history, warnings = _history(config, len(res.layers))
        warnings = list(res.warnings) + warnings
        by_layer = {h.layer: h for h in history if h.layer is not None}
        acc = Accountant(keep_files=keep_files or hash_files)
        findings: list[SecretFinding] = []
        file_secret_at: dict[tuple[int, str], int] = {}  # (layer, path) -> finding index
        layers: list[Layer] = []
        for i, blob in enumerate(res.layers):
            say(f"reading layer {i + 1}/{len(res.layers)}")
            layer = acc.begin_layer()
            label = f"{res.source}: layer {i} ({blob.name})"
            try:
                raw = blob.open()
            except LayerlensError:
                raise
            except OSError as exc:
                raise ImageError(f"cannot read {blob.name}: {exc}", path=res.source) from None
            with raw:
                try:
                    src = LayerStream(raw, blob.size, lim, label,
                                      hash_output=blob.diff_id is not None)
                except (EOFError, OSError, http.client.HTTPException) as exc:
                    raise ImageError(f"unreadable layer data ({exc})", path=label) from None
                kind = src.kind
                inflated_all = False

                def want(e) -> bool:
                    # the raw name is enough to rule a file out; most are
                    return e.size <= MAX_CONTENT and maybe_secret(e.name)

                with src:
                    reader = ChunkReader(src.chunks())
                    try:
                        for entry in iter_tar(reader, label, lim, want,
                                              hash_content=hash_files):
                            path = acc.add(layer, entry)
                            if path and (entry.content is not None or (
                                    entry.size > MAX_CONTENT and maybe_secret(entry.name))):
                                what = file_finding(path, entry.content)
                                if what:
                                    file_secret_at[(layer, path)] = len(findings)
                                    findings.append(SecretFinding("file", layer, path, what))
                        # padding and anything after the end blocks must still be hashed;
                        # past a bound it is hashed without being inflated (zeros can be
                        # a bomb)
                        inflated_all = src.finish(reader.rest())
                        if not inflated_all:
                            warnings.append(f"layer {i}: more than {lim.max_trailing_bytes} "
                                            "bytes after the end of its tar stream, not "
                                            "inflated; its tar length is a lower bound")
                    except (EOFError, OSError, http.client.HTTPException) as exc:
                        raise ImageError(f"unreadable layer data ({exc})", path=label) from None
                tar_bytes = src.out
            digest = "sha256:" + src.hash.hexdigest()
            if blob.digest and blob.digest.startswith("sha256:") and blob.digest != digest:
                raise ImageError(f"digest mismatch: expected {blob.digest}, content is {digest}",
                                 path=label)
            # a compressed blob's tail past the trailing-bytes bound was not inflated, so its
            # tar digest is unknown there; an uncompressed blob is hashed whole regardless
            if blob.diff_id and src.out_hash is not None and (inflated_all or kind == "none"):
                tar_digest = "sha256:" + src.out_hash.hexdigest()
                if tar_digest != blob.diff_id:
                    raise ImageError(f"digest mismatch: the config's diff_id is {blob.diff_id}, "
                                     f"the layer tar is {tar_digest} (corrupt or altered "
                                     "layer)", path=label)
            if blob.size is not None and src.count != blob.size and blob.digest:
                raise ImageError(f"size mismatch: descriptor says {blob.size} bytes, blob has "
                                 f"{src.count}", path=label)
            lc = acc.layers[layer]
            h = by_layer.get(i)
            layers.append(Layer(
                i, digest, diff_ids[i] if i < len(diff_ids) else None, blob.media_type, kind,
                lc.size_bytes, tar_bytes, src.count, src.count if kind != "none" else None,
                lc.files, lc.dirs, lc.entries, lc.added,
                lc.modified, lc.removed, 0, 0, h.created_by if h else None,
                h.created if h else None, h.index if h else None, lc.entries == 0,
            ))
            if lc.suspicious_paths:
                warnings.append(f"layer {i}: {lc.suspicious_paths} tar entries with absolute "
                                "or '..' paths (read relative to the root)")
        warnings.extend(acc.warnings)
    # shadowed totals are final only after the last layer
    final_layers = []
    for lay, lc in zip(layers, acc.layers, strict=True):
        final_layers.append(replace(lay, shadowed_bytes=lc.shadowed_bytes,
                                    shadowed_files=lc.shadowed_files))
    for (layer, path), idx in file_secret_at.items():
        node = acc.visible.get(path)
        if node is None or node.layer != layer:
            f = findings[idx]
            findings[idx] = SecretFinding(f.where, f.layer, f.path, f.kind, deleted_later=True)
    cfg = config.get("config") or {}
    env: list[tuple[str, str]] = []
    for item in cfg.get("Env") or []:
        if isinstance(item, str):
            k, _, v = item.partition("=")
            env.append((k, v))
            kind_ = value_finding(k, v)
            if kind_:
                findings.append(SecretFinding("env", None, k, kind_))
    for k, v in (cfg.get("Labels") or {}).items():
        kind_ = value_finding(str(k), str(v))
        if kind_ and not kind_.startswith("secret-looking"):
            findings.append(SecretFinding("label", None, str(k), kind_))
    for h in history:
        for name, kind_ in history_findings(h.created_by):
            findings.append(SecretFinding("history", h.layer, name, kind_))
    size = sum(lay.size_bytes for lay in final_layers)
    user = size - (final_layers[0].size_bytes if final_layers else 0)
    eff, wasted, pct, ineff = acc.dive_figures(user)
    return Image(
        res.source, res.format, res.platform, res.tags, tuple(env),
        cfg if isinstance(cfg, dict) else {}, tuple(final_layers), tuple(history), size,
        acc.visible_bytes(),
        None if any(lay.compressed_bytes is None for lay in final_layers)
        else sum(lay.compressed_bytes or 0 for lay in final_layers),
        sum(lay.shadowed_bytes for lay in final_layers), eff, wasted, pct,
        tuple(ineff), tuple(findings), tuple(warnings), tuple(acc.records),
        acc.final_tree() if hash_files else (), frozenset(acc.hidden),
    )
