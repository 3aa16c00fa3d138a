"""One model of RUN commands: the shell syntax tree (shell.py), the allowlist of commands
with known effects (allowlist.py) and each RUN's read/write sets (effects.py)."""

from layerlens.runmodel.effects import Effects, effects, scripts_of
from layerlens.runmodel.shell import Command, RunScript, Word, parse_script

__all__ = ["Command", "Effects", "RunScript", "Word", "effects", "parse_script", "scripts_of"]
