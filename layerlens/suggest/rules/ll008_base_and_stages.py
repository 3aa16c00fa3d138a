"""LL008: build tools left in the final image; a heavier base image than needed.

Hints without an automatic fix, since neither can be proven safe from the Dockerfile alone:
moving a build into its own stage and copying only the artifacts, or switching to a slim,
alpine or distroless base, changes what the image contains.
"""

from __future__ import annotations

import re

from layerlens.suggest.model import Suggestion
from layerlens.suggest.rule import Rule, Subject

# Packages that are compilers or headers (installed by a package manager) ...
_BUILD_PACKAGES = re.compile(r"^(build-essential|gcc|g\+\+|clang|make|cmake|golang(-go)?|"
                             r"rustc|cargo|python3?-dev|[a-z0-9.+-]+-dev(el)?)([=:].*)?$")
# ... and commands that compile, as (command, first argument or None).
_BUILD_COMMANDS = frozenset({("make", None), ("cmake", None), ("gcc", None), ("cc", None),
                             ("go", "build"), ("cargo", "build"), ("mvn", "package"),
                             ("mvn", "install"), ("gradle", "build"), ("npm", "run"),
                             ("yarn", "build")})
_INSTALLERS = frozenset({"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper"})


def build_tool(ins) -> str | None:
    """The first compiler, header package or build command a RUN uses (from the RUN model)."""
    from layerlens.runmodel import scripts_of

    for sc in scripts_of(ins):
        for cmd in sc.commands:
            w = [x.value for x in cmd.words if x.value is not None]
            if not w:
                continue
            if w[0] in _INSTALLERS:
                for x in w[2:]:
                    if not x.startswith("-") and _BUILD_PACKAGES.match(x):
                        return x
            sub = next((x for x in w[1:] if not x.startswith("-")), None)
            if (w[0], sub) in _BUILD_COMMANDS:
                return f"{w[0]} {sub}"
            if (w[0], None) in _BUILD_COMMANDS:
                return w[0]
    return None
_FULL_BASES = re.compile(
    r"^(docker\.io/)?(library/)?(python|node|ruby|openjdk|golang|rust|php|perl|buildpack-deps|"
    r"ubuntu|debian|fedora|centos)(:[^@]*)?$"
)
_SLIM = re.compile(r"(slim|alpine|distroless|minimal|micro|scratch|busybox|-jre|chiselled)")


def check(subject: Subject) -> list[Suggestion]:
    df = subject.df
    out: list[Suggestion] = []
    final = df.stages[-1]
    chain = []
    cur = final.index
    while cur is not None:
        chain.append(df.stages[cur])
        cur = df.stages[cur].base_stage
    copies_from_stage = any(df.instructions[i].from_stage is not None
                            for st in chain for i in st.instructions)
    for st in chain:
        for i in st.instructions[1:]:
            ins = df.instructions[i]
            if ins.keyword != "run" or not ins.args:
                continue
            tool = build_tool(ins)
            if tool and not copies_from_stage:
                out.append(Suggestion(
                    "LL008", "Build in a separate stage and copy only the artifacts",
                    f"RUN at line {ins.start_line} uses build tooling ({tool}) in the "
                    "final image", "Compilers, headers and build caches in the final image are "
                    "pushed and pulled by every machine that runs it; a multi-stage build leaves "
                    "them behind.", (ins.start_line,), False,
                    note="FROM ... AS build for the build; COPY --from=build only what runs"))
                break
    root = chain[-1]
    base = root.base
    if not root.base_is_stage and _FULL_BASES.match(base) and not _SLIM.search(base):
        size_note = ""
        a = subject.analysis
        if a.image is not None and subject.text == a.dockerfile.source:
            from layerlens.units import size

            base_bytes = sum(a.image.layers[s.layer].size_bytes for s in a.layer_sources
                             if s.base)
            if base_bytes:
                size_note = f" ({size(base_bytes)} of the image is the base)"
        first = df.instructions[root.instructions[0]].start_line
        out.append(Suggestion(
            "LL008", "Consider a smaller base image",
            f"the final image is built FROM {base}{size_note}",
            "Full distribution images carry compilers and tools most services never run; "
            "slim, alpine or distroless variants are often a fraction of the size.",
            (first,), False, note="try the -slim or -alpine tag, or distroless for the runtime"))
    return out


RULE = Rule(
    "LL008", "base-and-stages", "Build in a separate stage and copy only the artifacts",
    "Compilers, headers and build caches in the final image are pushed and pulled by every "
    "machine that runs it.", ("hint",),
    "build tools in the final image (multi-stage), a full base image (slim/alpine/distroless)",
    check)
