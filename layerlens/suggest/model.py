"""Suggestions: what to change, why, what it saves, its fix class, and the rewrite."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Savings:
    """Measured by replaying the same history with and without the change."""

    commits: int
    seconds_per_commit: float
    push_bytes_per_commit: float | None  # None when a layer of unknown size is pushed
    pull_bytes_per_commit: float | None
    seconds_window: float
    push_bytes_window: int | None
    pull_bytes_window: int | None
    before_seconds_per_commit: float
    after_seconds_per_commit: float
    estimated: bool
    rebuilds_avoided: int = 0  # commits that rebuilt something before and nothing after
    image_bytes: int | None = None  # bytes the image no longer stores (from an image)
    # commits at which today's file builds and the rewrite does not (it copies a file they
    # lack): the figures above are over the other commits
    after_failed: int = 0


@dataclass(frozen=True, slots=True)
class Suggestion:
    rule: str  # LL001 ...
    title: str
    message: str
    reason: str
    lines: tuple[int, ...]
    fixable: bool
    savings: Savings | None = None
    dockerfile: str | None = None  # the whole rewritten Dockerfile, when fixable
    dockerignore: str | None = None  # the whole rewritten .dockerignore, when fixable
    note: str | None = None  # why there is no automatic fix, or what to check
    # For a fix: "safe" (provably the same final image, only layer boundaries and order
    # change) or "unsafe" (plausibly right but able to change the image: applied only with
    # --unsafe-fixes), with the reason it may change the image. As ruff classes its fixes.
    safety: str = "safe"
    unsafe_reason: str | None = None

    @property
    def fix_class(self) -> str:
        """"safe", "unsafe" or "hint" (never applied)."""
        return self.safety if self.fixable else "hint"

    def applies(self, unsafe_fixes: bool) -> bool:
        """Would `--write` (with or without --unsafe-fixes) apply it?"""
        return self.fix_class == "safe" or (unsafe_fixes and self.fix_class == "unsafe")

    @property
    def rank_key(self) -> tuple:
        s = self.savings
        push = (s.push_bytes_per_commit or 0.0) if s else 0.0
        return (-(s.seconds_per_commit if s else 0.0), -push,
                -(s.image_bytes or 0 if s else 0), self.rule, self.lines)
