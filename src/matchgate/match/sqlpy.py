"""The model's SQL conditions as Python functions, with DuckDB's semantics.

A single request reaches a few hundred master rows. Scoring them in DuckDB costs more in
binding and planning the model's 12 KB of generated SQL (some 25 ms per request, whatever the
number of pairs) than in running it; evaluated here, a pair costs microseconds. The conditions
are the model's own (parsed with sqlglot, so a changed model changes this too), evaluated with
SQL's three-valued logic (None is NULL: a comparison with NULL is NULL, a condition that is NULL
does not hold) and DuckDB's functions:

- jaro_winkler_similarity: rapidfuzz's Jaro similarity (the same algorithm as DuckDB's, by the
  same author) with DuckDB's final step, whose multiply-add is computed with one rounding as its
  compiled code does (so 0.805 stays 0.805, not 0.8049999999999999); 0 when a side is empty;
- damerau_levenshtein, levenshtein: rapidfuzz's (integers, exact);
- concat skips NULLs, || does not; substr and strpos count from 1; length counts characters;
- try_strptime(x, '%Y-%m-%d') and EPOCH: seconds since 1970 as a float.

Whatever this module does not reproduce exactly is refused, never approximated: a construct it
does not know raises Unsupported when the model is compiled, and a value it cannot be sure of
(text that is not ASCII, where DuckDB counts bytes in some functions and characters in others; a
date not written YYYY-MM-DD) raises Inexact when a pair is evaluated. The caller then scores by
SQL. A test compares every level of every pair with DuckDB's.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import sqlglot
from rapidfuzz.distance import DamerauLevenshtein, Jaro, Levenshtein
from sqlglot import expressions as exp

Row = Mapping[str, Any]
Fn = Callable[[Row, Row], Any]


class Unsupported(ValueError):
    """A construct of the model's SQL this translation does not cover."""


class Inexact(ValueError):
    """A value whose result this translation does not reproduce exactly."""


def compile_condition(sql: str) -> Fn:
    """The condition (SQL over <column>_l and <column>_r) as a function of the two rows (keyed
    by the column without its side suffix) giving True, False or None (NULL). ELSE is True."""
    if sql.strip().upper() == "ELSE":
        return lambda left, right: True
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise Unsupported(f"cannot parse {sql!r}") from exc
    return _compile(tree)


def columns_read(sql: str, side: str) -> set[str]:
    """The columns (without the suffix) a condition reads of one side ('_l' or '_r')."""
    if sql.strip().upper() == "ELSE":
        return set()
    tree = sqlglot.parse_one(sql, read="duckdb")
    return {c.name[:-2] for c in tree.find_all(exp.Column) if c.name.endswith(side)}


# -- functions ---------------------------------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _split(a: float) -> tuple[float, float]:
    c = 134217729.0 * a  # Veltkamp's split: 2**27 + 1
    high = c - (c - a)
    return high, a - high


def fused_multiply_add(a: float, b: float, c: float) -> float:
    """a * b + c with one rounding (as a fused multiply-add), from Dekker's exact product."""
    product = a * b
    a1, a2 = _split(a)
    b1, b2 = _split(b)
    error = ((a1 * b1 - product) + a1 * b2 + a2 * b1) + a2 * b2
    return math.fsum((product, error, c))


def jaro_winkler(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    sim = Jaro.similarity(a, b)
    if sim > 0.7:
        prefix = 0
        for x, y in zip(a[:4], b[:4], strict=False):
            if x != y:
                break
            prefix += 1
        sim = fused_multiply_add(prefix * 0.1, 1.0 - sim, sim)
    return sim


def jaro(a: str, b: str) -> float:
    return Jaro.similarity(a, b) if a and b else 0.0


def try_strptime(value: str, fmt: str) -> dt.datetime | None:
    if fmt != "%Y-%m-%d":
        raise Unsupported(f"try_strptime with the format {fmt!r}")
    if not _ISO_DATE.fullmatch(value):
        raise Inexact(f"a date written {value!r}")
    try:
        return dt.datetime(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return None


def epoch(value: dt.datetime) -> float:
    return (value - _EPOCH).total_seconds()


def substr(text: str, start: int, length: int | None = None) -> str:
    if start < 1 or (length is not None and length < 0):
        raise Inexact("substr from a position before the first character")
    return text[start - 1:] if length is None else text[start - 1:start - 1 + length]


def _divide(a: Any, b: Any) -> Any:
    if b == 0:
        raise Inexact("a division by zero")
    return a / b


# Functions of SQL whose result is NULL when an argument is.
_STRICT: dict[type[exp.Expr], Callable[..., Any]] = {
    exp.JarowinklerSimilarity: jaro_winkler,
    exp.Levenshtein: Levenshtein.distance,
    exp.Length: len,
    exp.Abs: abs,
    exp.Lower: str.lower,
    exp.Upper: str.upper,
    exp.TimeToUnix: epoch,
    exp.DPipe: operator.add,
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
    exp.Div: _divide,
}
_ANONYMOUS: dict[str, Callable[..., Any]] = {
    "damerau_levenshtein": DamerauLevenshtein.distance,
    "levenshtein": Levenshtein.distance,
    "jaro_winkler_similarity": jaro_winkler,
    "jaro_similarity": jaro,
    "try_strptime": try_strptime,
    "epoch": epoch,
    "length": len,
}
_COMPARE: dict[type[exp.Expr], Callable[[Any, Any], bool]] = {
    exp.EQ: operator.eq, exp.NEQ: operator.ne, exp.GT: operator.gt, exp.GTE: operator.ge,
    exp.LT: operator.lt, exp.LTE: operator.le,
}


def _strict(func: Callable[..., Any], args: list[Fn]) -> Fn:
    if len(args) == 1:
        (one,) = args

        def unary(left: Row, right: Row) -> Any:
            value = one(left, right)
            return None if value is None else func(value)
        return unary
    if len(args) == 2:
        first, second = args

        def binary(left: Row, right: Row) -> Any:
            a = first(left, right)
            if a is None:
                return None
            b = second(left, right)
            return None if b is None else func(a, b)
        return binary

    def nary(left: Row, right: Row) -> Any:
        values = [arg(left, right) for arg in args]
        return None if any(v is None for v in values) else func(*values)
    return nary


def _compare(op: Callable[[Any, Any], bool], first: Fn, second: Fn) -> Fn:
    def compare(left: Row, right: Row) -> bool | None:
        a = first(left, right)
        if a is None:
            return None
        b = second(left, right)
        if b is None:
            return None
        if isinstance(a, str) != isinstance(b, str):
            raise Inexact(f"{a!r} compared with {b!r}")
        return op(a, b)
    return compare


def _connective(parts: list[Fn], decisive: bool) -> Fn:
    """AND (decisive False) or OR (decisive True) of three-valued parts, left to right: the
    decisive value as soon as a part has it; else NULL if a part was NULL."""
    def connective(left: Row, right: Row) -> bool | None:
        unknown = False
        for part in parts:
            value = part(left, right)
            if value is decisive:
                return decisive
            if value is None:
                unknown = True
        return None if unknown else not decisive
    return connective


def _flatten(node: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    node = node.unnest()
    if isinstance(node, kind):
        return [*_flatten(node.this, kind), *_flatten(node.expression, kind)]
    return [node]


def _column(node: exp.Column) -> Fn:
    name = node.name
    key, side = name[:-2], name[-2:]
    if node.table or side not in ("_l", "_r"):
        raise Unsupported(f"column {node.sql()} is of neither side")
    if side == "_l":
        return lambda left, right: left[key]
    return lambda left, right: right[key]


def _literal(node: exp.Literal) -> Fn:
    value: Any
    if node.is_string:
        value = node.this
    else:
        text = node.this
        value = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    return lambda left, right: value


def _compile(node: exp.Expr) -> Fn:
    node = node.unnest()
    if isinstance(node, exp.Column):
        return _column(node)
    if isinstance(node, exp.Literal):
        return _literal(node)
    if isinstance(node, exp.Null):
        return lambda left, right: None
    if isinstance(node, exp.Boolean):
        truth = bool(node.this)
        return lambda left, right: truth
    if isinstance(node, exp.And):
        return _connective([_compile(n) for n in _flatten(node, exp.And)], False)
    if isinstance(node, exp.Or):
        return _connective([_compile(n) for n in _flatten(node, exp.Or)], True)
    if isinstance(node, exp.Not):
        inner = _compile(node.this)

        def negation(left: Row, right: Row) -> bool | None:
            value = inner(left, right)
            return None if value is None else not value
        return negation
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        tested = _compile(node.this)
        return lambda left, right: tested(left, right) is None
    if type(node) in _COMPARE:
        return _compare(_COMPARE[type(node)], _compile(node.this), _compile(node.expression))
    if isinstance(node, exp.Neg):
        return _strict(operator.neg, [_compile(node.this)])
    if isinstance(node, exp.Concat):
        parts = [_compile(n) for n in node.expressions]
        if not node.args.get("coalesce"):
            return _strict(lambda *v: "".join(v), parts)
        return lambda left, right: "".join(
            v for p in parts if (v := p(left, right)) is not None)
    if isinstance(node, exp.Coalesce):
        options = [_compile(n) for n in (node.this, *node.expressions)]
        return lambda left, right: next(
            (v for o in options if (v := o(left, right)) is not None), None)
    if isinstance(node, exp.Substring):
        args = [_compile(node.this), _compile(node.args["start"])]
        if node.args.get("length") is not None:
            args.append(_compile(node.args["length"]))
        return _strict(substr, args)
    if isinstance(node, exp.StrPosition):
        if node.args.get("position") is not None or node.args.get("occurrence") is not None:
            raise Unsupported(f"strpos with a start: {node.sql()}")
        return _strict(lambda text, part: text.find(part) + 1,
                       [_compile(node.this), _compile(node.args["substr"])])
    if isinstance(node, exp.Levenshtein) and any(
            v is not None for k, v in node.args.items() if k not in ("this", "expression")):
        raise Unsupported(f"levenshtein with costs or a limit: {node.sql()}")
    if type(node) in _STRICT:
        operands = [node.this, *([node.expression] if node.args.get("expression") else [])]
        return _strict(_STRICT[type(node)], [_compile(n) for n in operands])
    if isinstance(node, exp.Anonymous) and node.name.lower() in _ANONYMOUS:
        return _strict(_ANONYMOUS[node.name.lower()], [_compile(n) for n in node.expressions])
    if isinstance(node, exp.In) and not node.args.get("query"):
        tested, options = _compile(node.this), [_compile(n) for n in node.expressions]

        def member(left: Row, right: Row) -> bool | None:
            value = tested(left, right)
            if value is None:
                return None
            found = [o(left, right) for o in options]
            if value in found:
                return True
            return None if None in found else False
        return member
    raise Unsupported(f"{type(node).__name__}: {node.sql(dialect='duckdb')}")
