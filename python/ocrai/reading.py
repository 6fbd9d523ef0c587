"""Reading control: what a reading may contain, in the form the native decoder takes.

- `char_set` checks an allow or deny list (a str or a set of one-character strings).
- `compile_pattern` turns a regular expression into a deterministic automaton over the
  characters a model can read: a dense table of states x columns, the characters falling
  into columns of equivalence (characters every part of the pattern treats alike share one).
  The native core maps it onto each recogniser's classes once per run and runs a constrained
  CTC beam search over it (cpp/src/ctc.cc).

Why the standard library's regex parser: Python parses the pattern (``re._parser``, called
``sre_parse`` before 3.11), so the syntax, escapes, classes and flags are exactly those of
`re`, and no regex parser is written here. What remains is the textbook part: a Thompson NFA
from the parse tree and the subset construction over character columns. A regex-to-automaton
library (interegular) would do the same with its own parser and its own reading of Python's
syntax, and add a dependency to the core install, which stays numpy + onnxruntime + Pillow.
Only regular constructs are accepted: back references, look-arounds and word boundaries are
refused with ValueError (no finite automaton has them). Anchors (``^``, ``$``, ``\\A``,
``\\Z``) add nothing, since the whole line must match; they are accepted and ignored.

This module never imports the native module.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["MAX_PATTERN_STATES", "char_set", "compile_pattern", "word_list"]

# Python 3.11 renamed the parser module; both parse the same way.
try:
    _sre: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python 3.10
    _sre = importlib.import_module("sre_parse")

#: An automaton with more states is refused: the native table is states x classes per model
#: (18,710 classes for PP-OCRv6 small: 75 KB a state).
MAX_PATTERN_STATES = 1000
#: Thompson states a pattern may unroll into (bounded repeats copy their body).
_MAX_NFA_STATES = 20000

CharSet = str | Iterable[str]


def char_set(value: object, name: str) -> str:
    """The characters of an allow or deny list, sorted and without repeats.

    A str is its characters; any other iterable holds one-character strs. TypeError for other
    types, ValueError for an element that is not one character or for an empty list."""
    if isinstance(value, (bytes, bytearray)):
        msg = f"{name} must be a str or a set of characters, got bytes"
        raise TypeError(msg)
    if isinstance(value, str):
        chars = set(value)
    else:
        try:
            items = list(value)  # type: ignore[call-overload]
        except TypeError:
            msg = f"{name} must be a str or a set of characters, got {type(value).__name__}"
            raise TypeError(msg) from None
        for item in items:
            if not isinstance(item, str) or len(item) != 1:
                msg = f"{name}: every element must be one character, got {item!r}"
                raise ValueError(msg)
        chars = set(items)
    if not chars:
        msg = f"{name} is empty: it would allow or deny nothing"
        raise ValueError(msg)
    if "\n" in chars or "\r" in chars:
        msg = f"{name}: a line never holds a line break"
        raise ValueError(msg)
    return "".join(sorted(chars))


def word_list(value: object) -> list[str]:
    """The words of a lexicon: a str (one word per whitespace-separated item) or an iterable
    of strs. TypeError for other types, ValueError when there is no word."""
    if isinstance(value, str):
        words = value.split()
    elif isinstance(value, (bytes, bytearray)):
        msg = "words must be a str or an iterable of str, got bytes"
        raise TypeError(msg)
    else:
        try:
            items = list(value)  # type: ignore[call-overload]
        except TypeError:
            msg = f"words must be a str or an iterable of str, got {type(value).__name__}"
            raise TypeError(msg) from None
        for item in items:
            if not isinstance(item, str):
                msg = f"words: every word must be a str, got {item!r}"
                raise TypeError(msg)
        words = [w for w in items if w.strip()]
    if not words:
        msg = "words is empty"
        raise ValueError(msg)
    return words


# --- the pattern -------------------------------------------------------------------------


class _Nfa:
    """A Thompson NFA: epsilon edges and edges labelled by a predicate (a bool array over
    the alphabet)."""

    def __init__(self, alphabet: str, flags: int) -> None:
        self.alphabet = alphabet
        self.codes = np.array([ord(c) for c in alphabet], dtype=np.int64)
        self.flags = flags
        self.eps: list[list[int]] = []
        self.edges: list[list[tuple[int, int]]] = []  # (predicate, target)
        self.predicates: list[np.ndarray] = []
        self._category_cache: dict[tuple[str, int], np.ndarray] = {}

    def state(self) -> int:
        if len(self.eps) >= _MAX_NFA_STATES:
            msg = "pattern is too large (bounded repeats unroll into too many states)"
            raise ValueError(msg)
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def predicate(self, members: np.ndarray) -> int:
        self.predicates.append(members)
        return len(self.predicates) - 1

    # Character sets as bool arrays over the alphabet.

    def literal(self, code: int, flags: int) -> np.ndarray:
        if flags & re.IGNORECASE:
            folded = chr(code).casefold()
            return np.array([c.casefold() == folded for c in self.alphabet], dtype=bool)
        same: np.ndarray = self.codes == code
        return same

    def range_(self, lo: int, hi: int, flags: int) -> np.ndarray:
        inside = (self.codes >= lo) & (self.codes <= hi)
        if flags & re.IGNORECASE:
            for variant in (str.lower, str.upper):
                codes = np.array(
                    [ord(v) if len(v := variant(c)) == 1 else -1 for c in self.alphabet],
                    dtype=np.int64,
                )
                inside |= (codes >= lo) & (codes <= hi)
        return inside

    def category(self, name: str, flags: int) -> np.ndarray:
        # Python's own `re` decides what \d, \s and \w hold (Unicode or ASCII, as flagged).
        key = (name, flags & re.ASCII)
        if key not in self._category_cache:
            escape = {
                "CATEGORY_DIGIT": r"\d",
                "CATEGORY_NOT_DIGIT": r"\D",
                "CATEGORY_SPACE": r"\s",
                "CATEGORY_NOT_SPACE": r"\S",
                "CATEGORY_WORD": r"\w",
                "CATEGORY_NOT_WORD": r"\W",
            }.get(name)
            if escape is None:
                msg = f"pattern: the character class {name} is not supported"
                raise ValueError(msg)
            rx = re.compile(escape, flags & re.ASCII)
            self._category_cache[key] = np.array(
                [rx.fullmatch(c) is not None for c in self.alphabet], dtype=bool
            )
        return self._category_cache[key]

    def in_set(self, items: list[tuple[Any, Any]], flags: int) -> np.ndarray:
        members = np.zeros(len(self.alphabet), dtype=bool)
        negate = False
        for op, arg in items:
            name = op.name
            if name == "NEGATE":
                negate = True
            elif name == "LITERAL":
                members |= self.literal(arg, flags)
            elif name == "RANGE":
                members |= self.range_(arg[0], arg[1], flags)
            elif name == "CATEGORY":
                members |= self.category(arg.name, flags)
            else:
                msg = f"pattern: {name} inside a character set is not supported"
                raise ValueError(msg)
        return ~members if negate else members

    # Thompson construction: each build returns (start, end) of a fragment.

    def build(self, items: Any, flags: int) -> tuple[int, int]:
        start = self.state()
        end = start
        for op, arg in items:
            s, e = self.build_one(op, arg, flags)
            self.eps[end].append(s)
            end = e
        return start, end

    def atom(self, members: np.ndarray) -> tuple[int, int]:
        s, e = self.state(), self.state()
        self.edges[s].append((self.predicate(members), e))
        return s, e

    def build_one(self, op: Any, arg: Any, flags: int) -> tuple[int, int]:
        name = op.name
        if name == "LITERAL":
            return self.atom(self.literal(arg, flags))
        if name == "NOT_LITERAL":
            return self.atom(~self.literal(arg, flags))
        if name == "ANY":
            dot = np.ones(len(self.alphabet), dtype=bool)
            if not flags & re.DOTALL:
                dot &= self.codes != ord("\n")
            return self.atom(dot)
        if name == "IN":
            return self.atom(self.in_set(arg, flags))
        if name == "BRANCH":
            s, e = self.state(), self.state()
            for alternative in arg[1]:
                a, b = self.build(alternative, flags)
                self.eps[s].append(a)
                self.eps[b].append(e)
            return s, e
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, body = arg
            return self.build(body, (flags | add_flags) & ~del_flags)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = arg
            if name == "POSSESSIVE_REPEAT":
                msg = "pattern: possessive repeats are not regular; write a plain repeat"
                raise ValueError(msg)
            return self.repeat(body, lo, hi, flags)
        if name == "AT":
            if arg.name in ("AT_BEGINNING", "AT_BEGINNING_STRING", "AT_END", "AT_END_STRING"):
                s = self.state()  # the whole line must match anyway
                return s, s
            msg = "pattern: word boundaries (\\b, \\B) are not supported"
            raise ValueError(msg)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            msg = "pattern: back references are not regular and not supported"
            raise ValueError(msg)
        if name in ("ASSERT", "ASSERT_NOT"):
            msg = "pattern: look-ahead and look-behind are not supported"
            raise ValueError(msg)
        if name == "ATOMIC_GROUP":
            return self.build(arg, flags)  # same language as a plain group
        msg = f"pattern: {name} is not supported"
        raise ValueError(msg)

    def repeat(self, body: Any, lo: int, hi: int, flags: int) -> tuple[int, int]:
        start = self.state()
        end = start
        for _ in range(lo):
            s, e = self.build(body, flags)
            self.eps[end].append(s)
            end = e
        if hi == _sre.MAXREPEAT:
            s, e = self.build(body, flags)  # a loop: body, back to its start, or leave
            hub = self.state()
            self.eps[end].append(hub)
            self.eps[hub].append(s)
            self.eps[e].append(hub)
            return start, hub
        exit_ = self.state()
        for _ in range(hi - lo):
            s, e = self.build(body, flags)
            self.eps[end].append(s)
            self.eps[end].append(exit_)
            end = e
        self.eps[end].append(exit_)
        return start, exit_


def _closure(nfa: _Nfa, states: Iterable[int]) -> frozenset[int]:
    seen = set(states)
    todo = list(seen)
    while todo:
        for t in nfa.eps[todo.pop()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return frozenset(seen)


def compile_pattern(pattern: object, alphabet: str) -> dict[str, Any]:
    """The automaton of `pattern` (a str or a compiled `re.Pattern` of str; its flags count)
    over the characters of `alphabet` (those the models read), in the native form: ``source``,
    ``alphabet`` (the characters some part of the pattern takes), ``columns`` (int32, the
    column of each), ``table`` (int32, states x columns, -1 where there is no transition;
    state 0 starts) and ``accepting`` (bool per state).

    TypeError for a pattern of another type; ValueError naming the problem for an invalid or
    non-regular pattern, or one whose automaton has more than MAX_PATTERN_STATES states."""
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):  # a bytes pattern
            msg = "pattern must be a str or a compiled str pattern, got a bytes pattern"
            raise TypeError(msg)
        source, flags = pattern.pattern, pattern.flags
    elif isinstance(pattern, str):
        source, flags = pattern, 0
    else:
        msg = f"pattern must be a str or a compiled re.Pattern, got {type(pattern).__name__}"
        raise TypeError(msg)
    return _compile(source, flags, alphabet)


@functools.lru_cache(maxsize=32)
def _compile(source: str, flags: int, alphabet: str) -> dict[str, Any]:
    try:
        parsed = _sre.parse(source, flags)
    except re.error as exc:
        msg = f"pattern {source!r} is not a valid regular expression: {exc}"
        raise ValueError(msg) from None
    nfa = _Nfa(alphabet, parsed.state.flags)
    start, end = nfa.build(parsed, parsed.state.flags)

    # Columns: characters every predicate treats alike share one; characters no predicate
    # takes are left out (no transition).
    if nfa.predicates:
        signature = np.stack(nfa.predicates)  # predicates x alphabet
        used = signature.any(axis=0)
        packed = np.packbits(signature[:, used], axis=0).T
        _, inverse = np.unique(packed, axis=0, return_inverse=True)
        column_of_char = np.full(len(alphabet), -1, dtype=np.int32)
        column_of_char[used] = inverse.reshape(-1)
        n_columns = int(inverse.max()) + 1 if used.any() else 0
        # Which columns each predicate takes (every character of a column agrees).
        first = np.zeros(n_columns, dtype=np.int64)
        first[column_of_char[used]] = np.flatnonzero(used)
        takes = signature[:, first]  # predicates x columns
    else:
        used = np.zeros(len(alphabet), dtype=bool)
        column_of_char = np.full(len(alphabet), -1, dtype=np.int32)
        n_columns = 0
        takes = np.zeros((0, 0), dtype=bool)

    # Subset construction over the columns.
    initial = _closure(nfa, [start])
    index = {initial: 0}
    order = [initial]
    rows: list[list[int]] = []
    i = 0
    while i < len(order):
        current = order[i]
        i += 1
        row = []
        for col in range(n_columns):
            targets = [t for s in current for p, t in nfa.edges[s] if takes[p, col]]
            if not targets:
                row.append(-1)
                continue
            nxt = _closure(nfa, targets)
            if nxt not in index:
                if len(order) >= MAX_PATTERN_STATES:
                    msg = (
                        f"pattern {source!r} needs more than {MAX_PATTERN_STATES} automaton "
                        "states; simplify it (shorter bounded repeats)"
                    )
                    raise ValueError(msg)
                index[nxt] = len(order)
                order.append(nxt)
            row.append(index[nxt])
        rows.append(row)
    table = np.array(rows, dtype=np.int32).reshape(len(order), n_columns)
    accepting = np.array([end in s for s in order], dtype=bool)
    kept = np.flatnonzero(used)
    return {
        "source": source,
        "alphabet": "".join(alphabet[k] for k in kept),
        "columns": np.ascontiguousarray(column_of_char[kept]),
        "table": np.ascontiguousarray(table),
        "accepting": accepting,
    }
