"""Spreadsheet cells: CSV values that Excel, LibreOffice or Google Sheets cannot run as formulas.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by spreadsheet programs (CSV injection).  As OWASP recommends, spanqa's CSV writers
prefix such a cell with a single quote, which the programs show as text; spanqa's CSV readers
remove exactly that quote again, so ids, labels and offsets round-trip unchanged.

>>> spreadsheet_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> spreadsheet_cell("- aspirin 81mg"), spreadsheet_cell("aspirin"), spreadsheet_cell(3)
("'- aspirin 81mg", 'aspirin', 3)
>>> read_cell(spreadsheet_cell("@SUM(A1)")), read_cell("'quoted"), read_cell("'")
('@SUM(A1)', "'quoted", "'")
"""

from __future__ import annotations

from typing import Any

#: first characters a spreadsheet program reads as the start of a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is a string a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def read_cell(value: Any) -> Any:
    """Undo :func:`spreadsheet_cell`: drop a leading ``'`` that stands before a formula character."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def safe_row(row: list[Any]) -> list[Any]:
    """Every cell of ``row`` through :func:`spreadsheet_cell`."""
    return [spreadsheet_cell(v) for v in row]


__all__ = ["FORMULA_START", "read_cell", "safe_row", "spreadsheet_cell"]
