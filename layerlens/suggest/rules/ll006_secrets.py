"""LL006: secrets in the build context, in ENV/ARG, or in image layers.

A secret in a layer or in the image config is readable by anyone who can pull the image,
even after a later layer deletes it. Build-time secrets belong in `RUN --mount=type=secret`.
No automatic fix: where a secret must go depends on how the build uses it.
"""

from __future__ import annotations

from layerlens.image.secrets import candidate, file_finding, value_finding
from layerlens.suggest.model import Suggestion
from layerlens.suggest.rule import Rule, Subject

TITLE = "Keep secrets out of layers: use RUN --mount=type=secret"
REASON = ("Anything a layer stores, or the image config carries, can be read by everyone who "
          "can pull the image, even after a later layer deletes it. A secret mount is visible "
          "only to the RUN that uses it and never lands in a layer.")


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    for ins in df.instructions:
        if ins.keyword in ("arg", "env"):
            for k, v in ins.pairs:
                kind = value_finding(k, v or "")
                if kind:
                    out.append(Suggestion("LL006", TITLE,
                                          f"{ins.upper} {k} at line {ins.start_line} holds a "
                                          f"value that looks like a secret ({kind})", REASON,
                                          (ins.start_line,), False,
                                          note="pass it with --secret and read it in RUN "
                                          "--mount=type=secret,id=...,env=" + k))
    for idx, inp in subject.inputs.items():
        ins = df.instructions[idx]
        for p in inp.paths:
            if not candidate(p):
                continue
            data = subject.analysis.context_file(p, 65536)
            kind = file_finding(p, data)  # `.env.example` placeholders are no secret
            if kind:
                out.append(Suggestion("LL006", TITLE,
                                      f"{ins.upper} at line {ins.start_line} copies {p} "
                                      f"({kind}) into a layer", REASON, (ins.start_line,), False,
                                      note=f"add {p} to .dockerignore and mount it with "
                                      "RUN --mount=type=secret where the build needs it"))
    img = subject.analysis.image
    if img is not None and subject.text == subject.analysis.dockerfile.source:
        for f in img.secrets:
            src = subject.analysis.source_of_layer(f.layer) if f.layer is not None else None
            line = src.line if src is not None and src.line else None
            out.append(Suggestion("LL006", TITLE, f"image: {f.describe()}", REASON,
                                  (line,) if line else (), False,
                                  note="rebuild without it; deleting it in a later layer does "
                                  "not remove it"))
    return out


RULE = Rule(
    "LL006", "secrets", TITLE, REASON, ("hint",),
    "secrets in the context, ENV/ARG or image layers: use `RUN --mount=type=secret` "
    "(template files such as `.env.example` only when a value looks real)", check)
