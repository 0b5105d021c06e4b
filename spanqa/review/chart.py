"""The impact record as HTML: a chart (inline SVG, no script, no network) and a table per evaluation corpus.

When every version but the reference has a fix count, the chart is a **learning curve**:
F1 against the number of fixes applied, one line per evaluation corpus, a whisker for each
point's 95% interval.  Otherwise (label sets, not fix counts) it is one bar per version
with its interval.  :func:`impact_section` is the block ``spanqa report`` adds to a run's
page when the run folder holds ``impact.json``; :func:`impact_page` is a page of its own
(``spanqa impact --out DIR`` writes ``DIR/impact.html``).  Every name reaches the page
through :func:`html.escape`.
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1")


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _y_range(rows: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    lo = min(r["ci95"][0] for r in rows)
    hi = max(r["ci95"][1] for r in rows)
    pad = max(0.005, (hi - lo) * 0.1)
    return max(0.0, lo - pad), min(1.0, hi + pad)


def is_curve(versions: Sequence[Mapping[str, Any]]) -> bool:
    """Every version counts its fixes, and there are at least three points."""
    return len(versions) >= 3 and all(isinstance(v.get("fixes"), int) for v in versions)


def curve_svg(evaluations: Mapping[str, Mapping[str, Any]], *, width: int = 560, height: int = 260) -> str:
    """F1 (with 95% whiskers) against fixes applied, one line per evaluation corpus."""
    series = [(name, [v for v in res["versions"] if isinstance(v.get("fixes"), int)])
              for name, res in evaluations.items()]
    rows = [v for _, vs in series for v in vs]
    left, right, top, bottom = 56, 16, 14, 40
    xmax = max(v["fixes"] for v in rows) or 1
    x = _scale(0, xmax, left, width - right)
    ylo, yhi = _y_range(rows)
    y = _scale(ylo, yhi, height - bottom, top)
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" text-anchor="middle">fixes applied</text>',
             f'<text x="12" y="{(top + height - bottom) / 2:.0f}" transform="rotate(-90 12 {(top + height - bottom) / 2:.0f})" '
             f'text-anchor="middle">strict span F1</text>']
    for t in range(5):
        v = ylo + (yhi - ylo) * t / 4
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.3f}</text>')
    for v in sorted({r["fixes"] for r in rows}):
        parts.append(f'<text x="{x(v):.1f}" y="{height - bottom + 14}" text-anchor="middle">{v}</text>')
    legend = []
    for i, (name, vs) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        vs = sorted(vs, key=lambda r: r["fixes"])
        pts = " ".join(f"{x(r['fixes']):.1f},{y(r['f1']):.1f}" for r in vs)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"/>')
        for r in vs:
            cx = x(r["fixes"])
            tip = f"{name} - {r['name']}: F1 {r['f1']:.4f} (95% CI {r['ci95'][0]:.4f}-{r['ci95'][1]:.4f})"
            parts.append(f'<line x1="{cx:.1f}" y1="{y(r["ci95"][0]):.1f}" x2="{cx:.1f}" y2="{y(r["ci95"][1]):.1f}" '
                         f'stroke="{c}"/><circle cx="{cx:.1f}" cy="{y(r["f1"]):.1f}" r="3.5" fill="{c}">'
                         f'<title>{html.escape(tip)}</title></circle>')
        legend.append(f'<span class="lg"><i style="background:{c}"></i>{html.escape(name)}</span>')
    return (f'<figure class="chart"><figcaption>Downstream F1 by fixes applied (whiskers: 95% interval)</figcaption>'
            f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
            f'<div class="legend">{"".join(legend)}</div></figure>')


def bars_svg(evaluations: Mapping[str, Mapping[str, Any]], *, width: int = 560) -> str:
    """One bar per (evaluation, version): F1 with its 95% interval."""
    rows = [(name, v) for name, res in evaluations.items() for v in res["versions"]]
    row, name_w = 22, 230
    h = row * len(rows) + 24
    lo, hi = _y_range([v for _, v in rows])
    lo = min(lo, 0.0) if lo < 0.2 else lo
    x = _scale(lo, hi, name_w, width - 60)
    parts = []
    for i, (ev, v) in enumerate(rows):
        yy = i * row + 4
        c = COLORS[list(evaluations).index(ev) % len(COLORS)]
        label = f"{ev}: {v['name']}" if len(evaluations) > 1 else v["name"]
        parts.append(f'<text x="{name_w - 6}" y="{yy + 14}" text-anchor="end">{html.escape(label[:38])}</text>'
                     f'<rect x="{name_w}" y="{yy + 3}" width="{max(1.0, x(v["f1"]) - name_w):.1f}" height="{row - 8}" '
                     f'fill="{c}"><title>{html.escape(label)}: F1 {v["f1"]:.4f}</title></rect>'
                     f'<line x1="{x(v["ci95"][0]):.1f}" y1="{yy + row / 2:.1f}" x2="{x(v["ci95"][1]):.1f}" '
                     f'y2="{yy + row / 2:.1f}" stroke="#222"/>'
                     f'<text x="{x(v["ci95"][1]) + 4:.1f}" y="{yy + 14}">{v["f1"]:.3f}</text>')
    parts.append(f'<text x="{name_w}" y="{h - 4}">{lo:.2f}</text>'
                 f'<text x="{width - 60}" y="{h - 4}" text-anchor="end">{hi:.2f}</text>')
    return (f'<figure class="chart"><figcaption>Downstream strict span F1 per training version (line: 95% '
            f'interval; axis from {lo:.2f})</figcaption><svg role="img" width="{width}" height="{h}" '
            f'viewBox="0 0 {width} {h}">{"".join(parts)}</svg></figure>')


def _fmt_delta(d: Mapping[str, Any] | None) -> str:
    if not d:
        return "reference"
    return f"{d['f1']:+.4f} ({d['ci95'][0]:+.4f} to {d['ci95'][1]:+.4f}), P(not better) {d['p_not_better']:.2f}"


def tables_html(record: Mapping[str, Any]) -> str:
    out = []
    for ev, res in record["evaluations"].items():
        rows = "".join(
            f"<tr><td>{html.escape(v['name'])}</td><td>{'' if v['fixes'] is None else v['fixes']}</td>"
            f"<td>{v['spans']}</td><td>{v['f1']:.4f}</td><td>{v['ci95'][0]:.4f} - {v['ci95'][1]:.4f}</td>"
            f"<td>{v['seed_sd']:.4f}</td><td>{html.escape(_fmt_delta(v.get('delta')))}</td></tr>"
            for v in res["versions"])
        out.append(f"<h3>{html.escape(ev)} ({res['documents']} documents, {res['gold_spans']} spans)</h3>"
                   '<div class="scroll"><table class="impact"><thead><tr><th>training labels</th><th>fixes</th>'
                   "<th>spans</th><th>F1</th><th>95% CI</th><th>seed sd</th><th>change vs the first</th></tr></thead>"
                   f"<tbody>{rows}</tbody></table></div>")
    return "".join(out)


def impact_section(record: Mapping[str, Any]) -> str:
    """The report's "What the fixes are worth" block: note, chart, tables."""
    evs = record.get("evaluations") or {}
    if not evs:
        return ""
    first = next(iter(evs.values()))["versions"]
    chart = curve_svg(evs) if is_curve(first) else bars_svg(evs)
    seeds = record.get("seeds") or []
    note = (f"{html.escape(record.get('note', ''))} Seeds {', '.join(map(str, seeds))}; intervals from "
            f"{record.get('bootstrap', {}).get('resamples', '?')} resamples of "
            f"{html.escape(record.get('bootstrap', {}).get('unit', ''))}.")
    warn = ' class="warn"' if record.get("mode") == "consistency" else ' class="muted"'
    return (f'<section id="impact"><h2>What the fixes are worth</h2><p{warn}>{note}</p>{chart}'
            f"{tables_html(record)}</section>")


def impact_page(record: Mapping[str, Any], *, title: str = "spanqa impact") -> str:
    """A self-contained page with :func:`impact_section` (for ``spanqa impact --out DIR``)."""
    style = ("body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;max-width:980px;color:#222}"
             "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}.warn{color:#8a4b00}.muted{color:#666}"
             ".lg{margin-right:1em}.lg i{display:inline-block;width:10px;height:10px;margin-right:4px}"
             ".scroll{overflow-x:auto}svg text{font-size:11px}")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{html.escape(title)}</title><style>{style}</style>'
            f"</head><body>{impact_section(record)}</body></html>")


__all__ = ["bars_svg", "curve_svg", "impact_page", "impact_section", "is_curve", "tables_html"]
