r"""Running a server's regular expressions in bounded time, for clients and simulators alike.

Python's ``re`` backtracks: a published ``pattern`` such as ``^(a+)+$`` takes seconds on a
29-character value and doubles with each character more. No linear-time engine is a
dependency here (``google-re2`` has no wheels for every platform and Python maas_dyn
supports), so a pattern is run only when it passes a static check:

* no repeated group whose body holds an unbounded repeat (``(a+)+``, ``(a*){2}``,
  ``(\w+\s?)*``), nor one holding a small choice (``?``, ``|``) repeated without a
  small bound (``(a|aa)+``, ``(a?)*``): the shapes that backtrack exponentially;
* no backreference (``\1``, ``(?P=name)``), which no linear engine runs either;
* a subject of at most :data:`MAX_SUBJECT` characters, which bounds the polynomial
  worst cases the check lets through (``.*.*x``).

A pattern that fails the check is not run; callers treat it as unchecked and leave the
verdict to the other side (the client to the server; the simulator accepts the value,
as a server whose regex engine cannot run a pattern must).
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass

__all__ = ["MAX_PATTERN", "MAX_SUBJECT", "is_risky", "safe_pattern", "search"]

# Longest subject a pattern is run on; longer values are left unchecked.
MAX_SUBJECT = 4096
# Longest pattern compiled at all (a server's pattern is a short expression).
MAX_PATTERN = 2048

_COUNTED = re.compile(r"\{(\d*)(,?)(\d*)\}")
# After "(?": the characters of flags, non-capturing and lookaround prefixes.
_GROUP_PREFIX = set("aiLmsux-:<=!>")
# A group may repeat up to this many times around a small choice ("(x[:-]?){5}").
_SMALL = 16


@dataclass
class _Group:
    unbounded: bool = False  # holds a repeat without a small bound ("*", "+", "{2,}")
    optional: bool = False   # holds a small choice ("?", "{2,3}", or "|" at its level)


def _skip_class(text: str, start: int) -> int:
    # Index just after the character class opening at ``start``.
    index = start + 1
    if text[index:index + 1] == "^":
        index += 1
    if text[index:index + 1] == "]":
        index += 1  # a leading "]" is a literal
    while index < len(text) and text[index] != "]":
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _quantifier(text: str, index: int) -> tuple[int, int] | None:
    # (end index, most repetitions; -1 = unbounded) of a quantifier at ``index``, else None.
    char = text[index]
    if char in "*+":
        end, most = index + 1, -1
    elif char == "?":
        end, most = index + 1, 1
    elif char == "{" and (counted := _COUNTED.match(text, index)) and \
            (counted.group(1) or counted.group(3)):
        low, comma, high = counted.groups()
        most = int(low) if not comma else (int(high) if high else -1)
        end = counted.end()
    else:
        return None
    if text[end:end + 1] in ("?", "+"):
        end += 1  # lazy or possessive suffix
    return end, most


def _variable(text: str, index: int, most: int) -> tuple[bool, bool]:
    # (unbounded, optional) for a quantifier at ``index`` repeating at most ``most`` times.
    counted = _COUNTED.match(text, index)
    least = int(counted.group(1) or 0) if counted else (1 if text[index] == "+" else 0)
    span = -1 if most < 0 else most - least
    return span < 0 or span > 1, span == 1


def _group_start(text: str, index: int) -> int | None:
    # Index after a group's opening; None for a named backreference "(?P=name)".
    index += 1
    if text[index:index + 1] != "?":
        return index
    index += 1
    if text.startswith("P=", index):
        return None
    if text.startswith("P<", index):
        close = text.find(">", index)
        return len(text) if close < 0 else close + 1
    while index < len(text) and text[index] in _GROUP_PREFIX:
        index += 1
    return index


@functools.lru_cache(maxsize=512)
def is_risky(text: str) -> bool:
    """Tell whether a pattern may backtrack exponentially (or has a backreference).

    A static scan, conservative on purpose: it may refuse a harmless pattern, never
    one of the exponential shapes listed in the module's docstring.

    Args:
        text: The pattern.

    Returns:
        True when the pattern should not be run by a backtracking engine.
    """
    stack = [_Group()]
    closed: _Group | None = None  # the group that just ended, if the next token applies to it
    index = 0
    while index < len(text):
        char = text[index]
        quantified = _quantifier(text, index)
        if quantified is not None:
            end, most = quantified
            unbounded, optional = _variable(text, index, most)
            # A repeated group: exponential when its body can match one stretch of text
            # in many ways; a small bounded count keeps a small choice harmless.
            if closed is not None and (most < 0 or most > 1) and (
                    closed.unbounded or (closed.optional and (most < 0 or most > _SMALL))):
                return True
            inner = closed or _Group()
            stack[-1].unbounded |= unbounded or inner.unbounded
            stack[-1].optional |= optional or inner.optional
            closed, index = None, end
            continue
        if closed is not None:
            stack[-1].unbounded |= closed.unbounded
            stack[-1].optional |= closed.optional
            closed = None
        if char == "\\":
            if (text[index + 1:index + 2].isdigit() and text[index + 1] != "0") or \
                    text.startswith("k<", index + 1):
                return True
            index += 2
        elif char == "[":
            index = _skip_class(text, index)
        elif char == "(":
            start = _group_start(text, index)
            if start is None:
                return True
            stack.append(_Group())
            index = start
        elif char == ")" and len(stack) > 1:
            closed = stack.pop()
            index += 1
        else:
            if char == "|":
                stack[-1].optional = True
            index += 1
    return False


@functools.lru_cache(maxsize=256)
def safe_pattern(text: str) -> re.Pattern[str] | None:
    """Compile a pattern when it is safe to run.

    Args:
        text: The pattern, as the server published it.

    Returns:
        The compiled pattern; None when it does not compile (an ECMA-only construct),
        is longer than :data:`MAX_PATTERN`, or :func:`is_risky` refuses it.
    """
    if len(text) > MAX_PATTERN or is_risky(text):
        return None
    try:
        # A server's pattern may trip re's FutureWarnings (e.g. "[["): not the user's to see.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return re.compile(text)
    except (re.error, RecursionError, OverflowError):
        return None


def search(text: str, value: str) -> bool | None:
    """Search ``value`` for the pattern ``text`` when that is safe.

    Args:
        text: The pattern.
        value: The subject.

    Returns:
        Whether the pattern matches somewhere in ``value``; None when it was not run
        (unsafe or invalid pattern, or a subject longer than :data:`MAX_SUBJECT`).
    """
    compiled = safe_pattern(text)
    if compiled is None or len(value) > MAX_SUBJECT:
        return None
    return compiled.search(value) is not None
