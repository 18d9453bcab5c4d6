"""Every audit action written in portal/ has words for the access log, or a reason it is left
out (portal.audit.actions): a new action cannot be forgotten.

The scan reads the source with `ast`: the action argument of `record(...)`,
`record_many(...)`, `log_read(...)` and `_staff_reading(...)`, and every `audit=` keyword.
A string literal is one action; `"a" if x else "b"` is both; an f-string must be listed
in FORMATTED with the values it takes. Anything else (a variable) is allowed only where
it passes the caller's action on (PASS_THROUGH)."""

from __future__ import annotations

import ast
from pathlib import Path

from portal.audit.actions import EXCLUDED, SHOWN
from portal.consent.services import GIVE, THINK, WITHDRAW
from portal.coordination.services import STATUS_AFTER
from portal.my_data.services import DOCUMENT, FHIR
from tests.conftest import ROOT

PORTAL = ROOT / "portal"
# function name -> index of the positional argument that is the action
ACTION_ARGUMENT = {"record": 1, "record_many": 1, "log_read": 0, "_staff_reading": 3}
# f-strings -> the values of the one placeholder, from the code that decides them
FORMATTED = {
    "request.{}": sorted(STATUS_AFTER),
    "consent.{}": [GIVE, THINK, WITHDRAW],
    "my_data.{}": [DOCUMENT, FHIR],
}
# (file, function) where the action is a parameter handed on from the caller
PASS_THROUGH = {
    ("portal/access.py", "log_read"),
    ("portal/access.py", "provide"),
    ("portal/access.py", "_staff_reading"),
}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _actions_of(node: ast.expr, where: str) -> tuple[set[str], list[str]]:
    """(the action names an expression can take, problems)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}, []
    if isinstance(node, ast.Constant) and node.value is None:
        return set(), []
    if isinstance(node, ast.IfExp):
        body, p1 = _actions_of(node.body, where)
        other, p2 = _actions_of(node.orelse, where)
        return body | other, p1 + p2
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if pattern not in FORMATTED:
            return set(), [f"{where}: f-string action {pattern!r}: list its values in FORMATTED"]
        return {pattern.format(value) for value in FORMATTED[pattern]}, []
    return set(), [f"{where}: an action that is not a string literal ({ast.unparse(node)})"]


def scan(root: Path = PORTAL) -> tuple[dict[str, list[str]], list[str]]:
    """action -> where it is written; and the problems found."""
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        enclosing = {}  # node -> the innermost function it is in (walk visits outer first)
        for function in functions:
            for child in ast.walk(function):
                enclosing[id(child)] = function.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{relative}:{node.lineno}"
            arguments = []
            index = ACTION_ARGUMENT.get(_name(node.func) or "")
            if index is not None and len(node.args) > index:
                arguments.append(node.args[index])
            arguments += [k.value for k in node.keywords if k.arg == "audit"]
            for argument in arguments:
                if isinstance(argument, ast.Name) and \
                        (relative, enclosing.get(id(node))) in PASS_THROUGH:
                    continue
                actions, trouble = _actions_of(argument, where)
                problems += trouble
                for action in actions:
                    found.setdefault(action, []).append(where)
    return found, problems


def test_every_action_in_portal_has_words_or_a_reason():
    found, problems = scan()
    assert not problems, "\n".join(problems)
    missing = {action: where for action, where in found.items()
               if action not in SHOWN and action not in EXCLUDED}
    assert not missing, (
        "audit actions without an entry in portal/audit/actions.py (SHOWN with words for the "
        f"person's access log, or EXCLUDED with the reason): {missing}")


def test_the_scan_finds_the_actions_it_should():
    """Not vacuous: literals, audit= keywords, conditionals and f-strings are all found."""
    found, _ = scan()
    for action in ("plan.read", "person.viewed_by_staff", "consent.listed_for_staff",
                   "meeting.calendar_by_staff", "thread.reopened", "auth.reauthenticated",
                   "request.meeting_booked", "consent.withdraw", "access_log.viewed"):
        assert action in found, action


def test_the_scan_reports_a_new_action_and_a_non_literal(tmp_path):
    package = tmp_path / "portal"
    package.mkdir()
    (package / "new.py").write_text(
        "async def go(db, subject, actor, kind):\n"
        "    await record(db, 'plan.shredded', actor)\n"
        "    await subject.log_read(kind, 'plan', 'x')\n"
        "    await record(db, f'plan.{kind}', actor)\n", encoding="utf-8")
    import tests.audit.test_action_catalog as module

    original = module.ROOT
    module.ROOT = tmp_path
    try:
        found, problems = scan(package)
    finally:
        module.ROOT = original
    assert "plan.shredded" in found and "plan.shredded" not in SHOWN
    assert any("not a string literal" in p for p in problems)
    assert any("f-string action 'plan.{}'" in p for p in problems)


def test_an_action_is_either_shown_or_excluded_and_every_entry_is_used():
    assert not set(SHOWN) & set(EXCLUDED)
    found, _ = scan()
    unused = sorted((set(SHOWN) | set(EXCLUDED)) - set(found))
    assert not unused, f"catalog entries no code writes (remove them, or fix the scan): {unused}"
