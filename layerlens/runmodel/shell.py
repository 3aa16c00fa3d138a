"""A RUN command as a shell syntax tree, read with tree-sitter-bash.

Parser choice, measured with bench/shell_parsers.py on the RUN bodies (shell form and
heredoc bodies) of 1240 RUNs in 21 public repositories: tree-sitter-bash parsed 1233
(failing on 6 PowerShell RUNs of Windows images and one backtick holding only a comment),
bashlex parsed 1148 (failing on every `case` pattern and more), and tree-sitter was 40x
faster (0.12 s against 5.3 s). tree-sitter is also maintained and error-tolerant: a tree
with an ERROR node still yields its commands, and layerlens then treats the RUN as unknown.

The model keeps what the rules need and nothing else: simple commands with their words,
assignments and redirections; how they are joined (`&&`, `||`, `;`, `|`); command
substitutions; compound statements (if/for/while/case/functions/subshells), which only
mark the RUN as not fully understood; and comments with their byte offsets, so an edit can
land before a trailing comment. Offsets are into `RunScript.source` (UTF-8 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# tree-sitter-bash node types that hold a word (an argument, a name, a redirect target)
_WORD_TYPES = frozenset({"word", "string", "raw_string", "concatenation", "simple_expansion",
                         "expansion", "command_substitution", "process_substitution", "number",
                         "ansi_c_string", "arithmetic_expansion", "translated_string"})
_COMPOUND = frozenset({"if_statement", "for_statement", "c_style_for_statement",
                       "while_statement", "case_statement", "function_definition", "subshell",
                       "compound_statement", "test_command", "negated_command"})
_EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution",
                         "process_substitution", "arithmetic_expansion"})
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word. `value` is the literal text after quote removal, or None when the
    word holds an expansion ($VAR, $(...), `...`) whose value the model does not know."""

    raw: str
    value: str | None
    variables: frozenset[str]
    substitution: bool  # holds $(...) or `...` (a command runs to make it)
    glob: bool  # unquoted * ? [ : the shell expands it against the filesystem


@dataclass(frozen=True, slots=True)
class Redirect:
    op: str  # '>', '>>', '<', '&>', '>&', '<<', '<<<', ...
    fd: str | None
    target: Word | None  # None for heredoc redirects


@dataclass(frozen=True, slots=True)
class Command:
    """A simple command: `assignments words... redirects`, and how it joins the next one."""

    words: tuple[Word, ...]
    assignments: tuple[tuple[str, Word | None], ...]
    redirects: tuple[Redirect, ...]
    start: int  # byte offsets into the script source
    end: int
    nested: bool  # inside a compound statement or a substitution
    # byte range of the innermost `( ... )` subshell or substitution around it (None: the
    # script's own shell): a `cd` there does not move the commands after that range
    subshell: tuple[int, int] | None = None

    @property
    def name(self) -> str | None:
        """The command name as the shell looks it up (basename not taken), or None."""
        return self.words[0].value if self.words else None

    @property
    def args(self) -> tuple[Word, ...]:
        return self.words[1:]


@dataclass(frozen=True, slots=True)
class Comment:
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class RunScript:
    """What one shell program (a RUN body or a heredoc a shell runs) is made of."""

    source: bytes
    commands: tuple[Command, ...]  # every simple command, including nested ones, in order
    comments: tuple[Comment, ...]
    operators: tuple[str, ...]  # list/pipeline operators in order: '&&', '||', ';', '|', '&'
    compound: tuple[str, ...]  # kinds of compound statements present
    errors: bool  # the parser could not read all of it
    exec_form: bool = False

    @property
    def top_end(self) -> int:
        """Byte offset just after the last top-level statement (before trailing comments)."""
        ends = [c.end for c in self.commands]
        return max(ends) if ends else 0

    @property
    def trailing_comment(self) -> Comment | None:
        """A comment after the last statement, if any (an edit must land before it)."""
        end = self.top_end
        after = [c for c in self.comments if c.start >= end]
        return after[0] if after else None


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def _text(node) -> str:
    return node.text.decode("utf-8", errors="surrogateescape")


def _word(node) -> Word:
    variables: set[str] = set()
    subst = False
    has_exp = False
    glob = False

    def walk(n, quoted: bool) -> None:
        nonlocal subst, has_exp, glob
        t = n.type
        if t in _EXPANSIONS:
            has_exp = True
            if t in ("command_substitution", "process_substitution"):
                subst = True
        if t == "variable_name":
            variables.add(_text(n))
        if t == "word" and not quoted and any(ch in GLOB_CHARS for ch in _text(n)):
            glob = True
        for c in n.children:
            walk(c, quoted or t in ("string", "raw_string", "ansi_c_string"))

    walk(node, False)
    value = None if has_exp else _literal(node)
    return Word(_text(node), value, frozenset(variables), subst, glob)


def _literal(node) -> str | None:
    t = node.type
    if t == "raw_string":
        return _text(node)[1:-1]
    if t == "string":
        parts = []
        for c in node.children:
            if c.type == '"':
                continue
            if c.type != "string_content":
                return None
            parts.append(_unescape(_text(c), '$`"\\\n'))
        return "".join(parts)
    if t in ("word", "number"):
        return _unescape(_text(node), None)
    if t == "concatenation":
        parts = [_literal(c) for c in node.children]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    return None


def _unescape(s: str, only: str | None) -> str:
    out = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and (only is None or s[i + 1] in only):
            if s[i + 1] != "\n":
                out.append(s[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _redirect(node) -> Redirect:
    fd = None
    op = ""
    target = None
    for c in node.children:
        if c.type == "file_descriptor":
            fd = _text(c)
        elif c.type in _WORD_TYPES and target is None:
            target = _word(c)
        elif not c.is_named:
            op = _text(c)
    if node.type == "heredoc_redirect":
        op, target = "<<", None
    elif node.type == "herestring_redirect":
        op = "<<<"
    return Redirect(op, fd, target)


@lru_cache(maxsize=4096)  # immutable; `suggest` re-reads the same RUNs in every candidate
def parse_script(source: str, exec_form: bool = False) -> RunScript:
    """The model of one shell program. Never raises: unreadable parts set `errors`."""
    data = source.encode("utf-8", errors="surrogateescape")
    tree = _parser().parse(data)
    commands: list[Command] = []
    comments: list[Comment] = []
    operators: list[tuple[int, str]] = []  # (offset, operator): sorted by position below
    compound: list[str] = []

    def visit(n, nested: bool, scope: tuple[int, int] | None = None) -> None:
        t = n.type
        if t in ("subshell", "command_substitution", "process_substitution"):
            scope = (n.start_byte, n.end_byte)
        if t == "comment":
            comments.append(Comment(n.start_byte, n.end_byte, _text(n)))
            return
        if t in _COMPOUND:
            compound.append(t)
            nested = True
        if t in ("command", "declaration_command", "unset_command"):
            commands.append(_command(n, nested, scope))
            for c in n.children:  # substitutions inside the words run commands too
                _visit_words(c)
            return
        if t == "redirected_statement":
            body = n.child_by_field_name("body")
            reds = [_redirect(c) for c in n.children
                    if c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect")]
            for c in n.children:
                if c.type == "heredoc_redirect":
                    for cc in c.children:  # `cat <<EOF > out`: the inner redirect counts too
                        if cc.type == "file_redirect":
                            reds.append(_redirect(cc))
            if body is not None and body.type in ("command", "declaration_command"):
                cmd = _command(body, nested, scope)
                commands.append(Command(cmd.words, cmd.assignments, cmd.redirects + tuple(reds),
                                        n.start_byte, n.end_byte, nested, scope))
                for c in body.children:
                    _visit_words(c)
                for c in n.children:
                    if c.id != body.id:  # nodes are new objects on each access
                        _visit_words(c)
                return
            if body is not None:
                # a redirect on a compound statement: keep it on a placeholder command
                visit(body, nested, scope)
                commands.append(Command((), (), tuple(reds), n.start_byte, n.end_byte, True,
                                        scope))
                return
        if t in ("list", "pipeline", "program"):
            for c in n.children:
                if not c.is_named and _text(c) in ("&&", "||", ";", "|", "&", "|&", ";;"):
                    operators.append((c.start_byte, _text(c)))
        if t == "variable_assignment":  # a bare `A=b` statement
            commands.append(Command((), (_assignment(n),), (), n.start_byte, n.end_byte, nested,
                                    scope))
            _visit_words(n)
            return
        for c in n.children:
            visit(c, nested, scope)

    def _visit_words(n) -> None:
        if n.type in ("command_substitution", "process_substitution"):
            for c in n.children:
                visit(c, True, (n.start_byte, n.end_byte))
            return
        for c in n.children:
            _visit_words(c)

    visit(tree.root_node, False)
    return RunScript(data, tuple(commands), tuple(comments),
                     tuple(op for _, op in sorted(operators)), tuple(compound),
                     tree.root_node.has_error, exec_form)


def _assignment(n) -> tuple[str, Word | None]:
    name = n.child_by_field_name("name")
    value = n.child_by_field_name("value")
    return (_text(name) if name is not None else "",
            _word(value) if value is not None else Word("", "", frozenset(), False, False))


def _command(n, nested: bool, scope: tuple[int, int] | None = None) -> Command:
    words: list[Word] = []
    assigns: list[tuple[str, Word | None]] = []
    reds: list[Redirect] = []
    for c in n.children:
        t = c.type
        if t == "variable_assignment":
            if n.type == "declaration_command":
                # `export A=b`: the whole assignment is one argument of `export`
                words.append(Word(_text(c), _literal_assign(c), _vars(c), _has_subst(c), False))
            else:
                assigns.append(_assignment(c))
        elif t == "command_name":
            words.append(_word(c.children[0]) if c.children else _word(c))
        elif t in ("file_redirect", "herestring_redirect", "heredoc_redirect"):
            reds.append(_redirect(c))
        elif t in _WORD_TYPES:
            words.append(_word(c))
        elif (not c.is_named and n.type in ("declaration_command", "unset_command")) or \
                t == "variable_name":
            words.append(Word(_text(c), _text(c), frozenset(), False, False))
    return Command(tuple(words), tuple(assigns), tuple(reds), n.start_byte, n.end_byte, nested,
                   scope)


def _vars(n) -> frozenset[str]:
    out: set[str] = set()

    def walk(x) -> None:
        if x.type == "variable_name" and x.parent is not None and x.parent.type != \
                "variable_assignment":
            out.add(_text(x))
        for c in x.children:
            walk(c)

    walk(n)
    return frozenset(out)


def _has_subst(n) -> bool:
    if n.type in ("command_substitution", "process_substitution"):
        return True
    return any(_has_subst(c) for c in n.children)


def _literal_assign(n) -> str | None:
    name, value = _assignment(n)
    if value is None or value.value is None:
        return None
    return f"{name}={value.value}"


def exec_script(argv: tuple[str, ...]) -> RunScript:
    """An exec-form RUN: one command, its words literal (no shell runs)."""
    words = tuple(Word(a, a, frozenset(), False, False) for a in argv)
    return RunScript(b"", (Command(words, (), (), 0, 0, False),), (), (), (), False, True)
