"""The RUN model: shell syntax (tree-sitter-bash), the allowlist, read/write sets."""

from __future__ import annotations

import pytest

from layerlens.dockerfile import parse
from layerlens.runmodel import effects, parse_script, scripts_of
from layerlens.runmodel.allowlist import TABLE


def _run(text: str):
    return parse(f"FROM a\nRUN {text}\n").instructions[1]


def test_simple_commands_words_redirections_and_operators() -> None:
    sc = parse_script("set -eux; X=1 apt-get install -y \"$(cat p.txt)\" 'a b' > /tmp/o 2>&1 "
                      "< in.txt | tee x || true # done")
    names = [c.name for c in sc.commands]
    assert names == ["set", "apt-get", "cat", "tee", "true"]
    apt = sc.commands[1]
    assert apt.assignments[0][0] == "X"
    assert [w.value for w in apt.words] == ["apt-get", "install", "-y", None, "a b"]
    assert apt.words[3].substitution
    assert {(r.op, r.target.value if r.target else None) for r in apt.redirects} >= {
        (">", "/tmp/o"), ("<", "in.txt")}
    assert sc.commands[2].nested  # inside the substitution
    assert sc.operators == (";", "|", "||")
    assert sc.trailing_comment is not None and sc.trailing_comment.text == "# done"
    assert not sc.errors


def test_compound_statements_and_errors_are_marked() -> None:
    assert parse_script("for f in *; do echo $f; done").compound == ("for_statement",)
    assert parse_script("if [ -f x ]; then rm x; fi").compound
    assert parse_script("echo 'unterminated").errors


def test_heredoc_forms() -> None:
    ins = parse("FROM a\nRUN <<EOF\nset -e\napt-get update\nEOF\n").instructions[1]
    assert [c.name for sc in scripts_of(ins) for c in sc.commands] == ["set", "apt-get"]
    ins = parse("FROM a\nRUN bash -e <<-EOF\n\tmake\n\tEOF\n").instructions[1]
    assert "make" in [c.name for sc in scripts_of(ins) for c in sc.commands]
    ins = parse("FROM a\nRUN cat <<EOF > /etc/motd\nhello\nEOF\n").instructions[1]
    [sc] = scripts_of(ins)
    assert [c.name for c in sc.commands] == ["cat"] and not sc.errors


def test_exec_form_is_one_command_and_sh_c_is_a_program() -> None:
    [sc] = scripts_of(_run('["apt-get", "install", "-y", "curl"]'))
    assert sc.exec_form and [w.value for w in sc.commands[0].words] == [
        "apt-get", "install", "-y", "curl"]
    [sc] = scripts_of(_run('["sh", "-c", "apt-get update && make"]'))
    assert [c.name for c in sc.commands] == ["apt-get", "make"]


@pytest.mark.parametrize(("run", "bounded", "why"), [
    ("apt-get update && apt-get install -y --no-install-recommends curl", True, ""),
    ("apk add --no-cache -t .deps git", True, ""),
    ("useradd -m -u 1000 app && mkdir -p /app && chown app:app /app", True, ""),
    ("echo hi > /etc/motd", True, ""),
    ("rm -rf /var/lib/apt/lists/*", True, ""),
    ("./build.sh", False, "not a command"),
    ("make", False, "make"),
    ("apt-get install -y $(cat /tmp/p.txt)", False, "substitution"),
    ("apt-get install -y ./tool.deb", False, "local file"),
    ("echo x > out.txt", False, "not a literal absolute path"),
    ("mkdir -p $HOME/x", False, "variable"),
    ("touch -r /etc/x /y", False, "reads a file"),
    ("while read p; do apk add $p; done < /p", False, "statement"),
    (". /etc/profile", False, "another script"),
    ("npm install -g typescript@^6.0.3", True, ""),
    ("npm i --global @cyclonedx/cyclonedx-npm@3 pnpm", True, ""),
    ("npm install", False, "working directory"),
    ("npm ci", False, "working directory"),
    ("npm install -g ./tools", False, "local file"),
    ("npm install -g file:tools", False, "local file"),
    ("npm install -g user/repo", False, "local file"),
    ("npm install -g --prefix /app x", False, "reads a file"),
    ("apt-get install -y @scope/x", False, "local file"),  # only npm has scoped names
    ("a2enmod rewrite headers && a2ensite 001-ssl.conf", True, ""),
    ("a2enmod ../../tmp/evil", False, "local file"),
])
def test_bounded_and_why_not(run: str, bounded: bool, why: str) -> None:
    eff = effects(_run(run))
    assert eff.bounded is bounded, eff.why
    assert bounded or any(why in w for w in eff.why), eff.why


def test_read_write_and_environment_sets() -> None:
    eff = effects(_run("apt-get install -y curl && mkdir -p /srv/data && echo $V > /srv/v"))
    assert eff.may_write("/srv/data/x") and eff.may_write("/usr/bin/curl")
    assert not eff.may_write("/app") and not eff.may_read("/app/packages.txt")
    assert eff.reads_env("V") and eff.reads_env("DEBIAN_FRONTEND")
    assert not eff.reads_env("GIT_SHA")
    unknown = effects(_run("./build.sh"))
    assert unknown.may_read("/anything") and unknown.reads_env("GIT_SHA")


def test_npm_global_reads_its_settings() -> None:
    eff = effects(_run("npm install -g typescript"))
    assert eff.reads_env("npm_config_prefix") and eff.reads_env("NPM_CONFIG_REGISTRY")
    assert eff.reads_home and eff.may_read("/root/.npmrc") and eff.may_write("/usr/local/bin")
    assert not eff.may_read("/app/.npmrc") and not eff.may_write("/app")
    assert not effects(_run("apt-get install -y x")).reads_home


def test_every_allowlist_entry_names_its_manual() -> None:
    for k in TABLE:
        assert k.source and ("(" in k.source or "POSIX" in k.source), k
        assert k.kind in {"packages", "paths", "reads", "user", "print", "builtin"}
