"""The run folder's files: their names, what an audit returns, and how its records and stage messages are written.

:func:`write_run` writes a computed :class:`AuditResult` (:func:`spanqa.run.pipeline.compute`) into a run folder;
:mod:`spanqa.run.reader` reads one back.  Both audit paths - one flat layer (:mod:`spanqa.run.pipeline`) and nested labels in layers (:mod:`spanqa.run.nested`) - write
through this module, so neither needs the other's internals.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from spanqa.core.output import atomic_open, write_text
from spanqa.core.span import Span
from spanqa.model.predictions import OOFPredictions
from spanqa.score.findings import Finding
from spanqa.score.quality import CandidateScore, SpanQuality

FILES = {"spans": "spans.jsonl", "findings": "findings.jsonl", "predictions": "predictions.jsonl",
         "marginals": "marginals.npz", "summary": "summary.json", "problems": "problems.jsonl"}


@dataclass
class AuditResult:
    """What an audit computed and, once :func:`write_run` wrote it, where (``out``; ``None`` before).

    ``spans``: the quality of every labelled span, in corpus order; ``findings``: most
    suspicious first; ``predictions``: decoded spans per document; ``candidates``: the
    candidate missing entities; ``summary``: the content of ``summary.json``; ``rows``: the
    records of each ``.jsonl`` file by its :data:`FILES` key (and ``suppressed``), as written.
    """

    out: Path | None
    oof: OOFPredictions
    spans: list[SpanQuality]
    findings: list[Finding]
    predictions: dict[str, list[Span]]
    candidates: list[CandidateScore]
    summary: dict[str, Any] = field(default_factory=dict)
    ranking: Any = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


#: reason of spans nested in another labelled span, which flat tagging could not train or predict on
NESTED = "overlap_dropped"


def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    with atomic_open(path, root=path.parent) as fh:  # run files sit at the top of --out
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")


def write_run(result: AuditResult, out: Path) -> AuditResult:
    """Write a computed audit into the run folder ``out``: the marginals, every ``.jsonl`` file of ``result.rows``
    and ``summary.json`` (its ``timings`` gain the writing); returns the result with ``out`` set."""
    from spanqa.score.rejections import SUPPRESSED

    t0 = time.perf_counter()
    result.oof.save(out / FILES["marginals"])
    for key in ("spans", "findings", "predictions", "problems"):
        write_jsonl(out / FILES[key], result.rows[key])
    if "suppressed" in result.rows:  # the corpus version carries rejections (spanqa.score.rejections)
        write_jsonl(out / SUPPRESSED, result.rows["suppressed"])
    timings = result.summary.get("timings")
    if timings is not None:
        spent = time.perf_counter() - t0
        timings["write_s"] = round(timings.get("write_s", 0.0) + spent, 3)
        timings["total_s"] = round(timings.get("total_s", 0.0) + spent, 3)
    write_text(out / FILES["summary"], json.dumps(result.summary, indent=2, ensure_ascii=False) + "\n", root=out)
    return replace(result, out=out)


def notify(progress: bool) -> Callable[[str], None]:
    """Stage messages on stderr: timestamped rich lines on a terminal; plain ``HH:MM:SS message`` lines, unwrapped,
    when stderr is a log file or a pipe (a job on a shared server, CI, nohup).  Never a source location."""
    if not progress:
        return lambda msg: None
    from rich.console import Console

    from spanqa.model.progress import log_lines

    plain = log_lines(progress)  # None on a terminal
    if plain is not None:
        return plain
    console = Console(stderr=True, log_path=False)
    return lambda msg: console.log(msg)


__all__ = ["AuditResult", "FILES", "NESTED", "notify", "write_jsonl"]
