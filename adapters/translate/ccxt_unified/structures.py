"""Which of ccxt's unified structures a JSON value is (by its keys, for a bare line), and one structure, by
its kind, to facts."""

from __future__ import annotations

from typing import Any

from adapters.translate.base import Instruments, Translation, Untranslatable
from adapters.translate.ccxt_unified.orders import _order, _trade
from adapters.translate.ccxt_unified.readers import _brief, _dict
from adapters.translate.ccxt_unified.reports import _balance, _positions

_KINDS = ("order", "trade", "balance", "positions")


# ------------------------------------------------------------------------------ shapes
def _is_order(d: dict[str, Any]) -> bool:
    return "id" in d and "status" in d and "side" in d and "amount" in d


def _is_trade(d: dict[str, Any]) -> bool:
    return "status" not in d and "id" in d and "order" in d and "side" in d and "price" in d and "amount" in d


def _is_balance(d: dict[str, Any]) -> bool:
    return isinstance(d.get("total"), dict)


def _is_position(d: dict[str, Any]) -> bool:
    return "symbol" in d and "contracts" in d and "side" in d


_SHAPES = (("order", _is_order), ("trade", _is_trade), ("balance", _is_balance), ("positions", _is_position))


def _shape(value: object) -> str:
    if isinstance(value, list):
        if value and all(isinstance(p, dict) and _is_position(p) for p in value):
            return "positions"
        what = "a list that is not of ccxt positions" if value else "an empty list"
        raise Untranslatable(f'{what}: say what it is, e.g. {{"type": "positions", "data": [...]}}')
    if not isinstance(value, dict):
        raise Untranslatable(f"not a JSON object: {_brief(value)}")
    if not value:
        raise Untranslatable("an empty object: not a ccxt order, trade, balance or positions")
    kinds = [name for name, test in _SHAPES if test(value)]
    if len(kinds) == 1:
        return kinds[0]
    if kinds:
        raise Untranslatable(f"ambiguous: the object looks like a ccxt {' and a '.join(kinds)}; wrap it to say which")
    keys = ", ".join(sorted(value)[:8])
    raise Untranslatable(f"unknown shape: not a ccxt order, trade, balance or positions (keys: {keys})")


def _translate_kind(kind: str, data: Any, instruments: Instruments, fallback_ms: object = None) -> Translation:
    if kind == "trade":
        return _trade(_dict(data, "data"), instruments)
    if kind == "order":
        return _order(_dict(data, "data"), instruments)
    if kind == "balance":
        return _balance(_dict(data, "data"), fallback_ms)
    return _positions(data, instruments, fallback_ms)
