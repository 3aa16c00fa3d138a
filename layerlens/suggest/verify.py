"""A safety net under every rewrite: the final image config must not change.

Rules prove their own edits safe; this check catches any rewrite that would still alter
what the image declares (environment, labels, command, ports, user, working directory,
volumes, health check, stop signal), whatever rule produced it.
"""

from __future__ import annotations

from layerlens.dockerfile.model import Dockerfile


def final_config(df: Dockerfile) -> dict:
    cfg: dict = {"env": {}, "labels": {}, "cmd": None, "entrypoint": None, "expose": [],
                 "user": None, "workdir": None, "volumes": [], "healthcheck": None,
                 "stopsignal": None, "shell": None}
    chain = []
    cur = len(df.stages) - 1
    while cur is not None:
        chain.append(cur)
        cur = df.stages[cur].base_stage
    for s in reversed(chain):
        for i in df.stages[s].instructions[1:]:
            ins = df.instructions[i]
            kw = ins.keyword
            if kw == "env":
                cfg["env"].update(dict(ins.pairs))
            elif kw == "label":
                cfg["labels"].update(dict(ins.pairs))
            elif kw in ("cmd", "entrypoint", "healthcheck", "shell"):
                cfg[kw] = (ins.exec_form, ins.args)
            elif kw == "expose":
                cfg["expose"] += list(ins.expanded)
            elif kw in ("user", "stopsignal"):
                cfg[kw] = ins.expanded[0] if ins.expanded else None
            elif kw == "workdir":
                cfg["workdir"] = ins.expanded[0] if ins.expanded else None
            elif kw == "volume":
                cfg["volumes"] += list(ins.expanded or ins.args)
    cfg["expose"] = sorted(set(cfg["expose"]))
    cfg["volumes"] = sorted(set(cfg["volumes"]))
    return cfg


def config_changes(before: Dockerfile, after: Dockerfile) -> list[str]:
    a, b = final_config(before), final_config(after)
    return [k for k in a if a[k] != b[k]]
