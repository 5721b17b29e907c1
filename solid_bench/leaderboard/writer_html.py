"""A self-contained HTML page: sortable, filterable tables by section, inline plots, caption and provenance.

No network: CSS, JavaScript and the plots (SVG as data URIs) are inline. The rows are split into
the page sections of ``writers.page_section`` (main comparison, learning curves, ablations), one
table each under its own heading; each header row stays in view while its table scrolls by
(``position: sticky``). Click a header to sort its table (again to reverse); type in the filter
box to hide the rows of every table that do not contain the text. The URL fragment applies both
at load, to every table, e.g. ``leaderboard.html#sort=micro_f1&dir=desc&filter=tfidf``.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .provenance import footer_lines
from .table import METRICS, Table
from .writers import PAGE_SECTIONS, STEM, TEXT_COLUMNS, WRITERS, best_rows, caption, display_columns, mark_text, page_section, sort_value

BETTER, WORSE = "▲", "▼"
TEXT_KEYS = TEXT_COLUMNS
SECTION_IDS = {"Main comparison": "main", "Learning curves": "curves", "Ablations": "ablations"}

CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 8px;white-space:nowrap;border-bottom:1px solid #ddd;text-align:right}
th{cursor:pointer;background:#f4f4f4;user-select:none;position:sticky;top:0;z-index:1;box-shadow:inset 0 -1px #bbb}
th.text,td.text{text-align:left}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tr[hidden]{display:none}.best{font-weight:bold}.caption{max-width:70em;font-size:13px}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}pre{background:#f8f8f8;padding:1em;overflow:auto}
footer{font-size:12px;color:#555;border-top:1px solid #ccc;margin-top:2em}#filter{width:20em}"""

JS = """(function(){
var tables=Array.prototype.slice.call(document.querySelectorAll('table.board')),input=document.getElementById('filter');
function value(td,type){var v=td.getAttribute('data-v');if(type!=='num')return v;return v===''?null:parseFloat(v);}
function sortTable(table,key,dir){var heads=table.tHead.rows[0].cells,tbody=table.tBodies[0],idx=-1,type='text';
 for(var i=0;i<heads.length;i++){heads[i].removeAttribute('aria-sort');
  if(heads[i].getAttribute('data-key')===key){idx=i;type=heads[i].getAttribute('data-type');}}
 if(idx<0)return;
 var rows=Array.prototype.slice.call(tbody.rows);
 rows.sort(function(a,b){var x=value(a.cells[idx],type),y=value(b.cells[idx],type),c=0;
  if(x===y)c=0;else if(x===null)return 1;else if(y===null)return -1;else c=x<y?-1:1;
  if(dir==='desc')c=-c;return c||(a.getAttribute('data-order')-b.getAttribute('data-order'));});
 rows.forEach(function(r){tbody.appendChild(r);});
 heads[idx].setAttribute('aria-sort',dir==='desc'?'descending':'ascending');table.sortKey=key;table.sortDir=dir;}
function filter(q){q=(q||'').toLowerCase();var shown=0,total=0;
 tables.forEach(function(t){var rows=t.tBodies[0].rows;
  for(var i=0;i<rows.length;i++){var hit=!q||rows[i].textContent.toLowerCase().indexOf(q)>=0;rows[i].hidden=!hit;total++;if(hit)shown++;}});
 document.getElementById('count').textContent=shown+' of '+total+' rows shown';}
tables.forEach(function(t){var heads=t.tHead.rows[0].cells;
 for(var i=0;i<heads.length;i++){heads[i].addEventListener('click',function(){var key=this.getAttribute('data-key');
  var first=this.getAttribute('data-type')==='num'?'desc':'asc';
  sortTable(t,key,t.sortKey===key?(t.sortDir==='asc'?'desc':'asc'):first);});}});
input.addEventListener('input',function(){filter(input.value);});
var params=new URLSearchParams(location.hash.replace(/^#/,''));
if(params.get('sort'))tables.forEach(function(t){sortTable(t,params.get('sort'),params.get('dir')==='asc'?'asc':'desc');});
if(params.get('filter')!==null){input.value=params.get('filter');}
filter(input.value);
})();"""


def _table_html(table: Table, section: str, indices: list[int]) -> list[str]:
    """One section's table: the display columns, rows in table order (``data-order`` is the row's index in the table)."""
    cols = display_columns(table)
    best = {m: best_rows(table, m) for m in METRICS}
    head = "".join(
        f'<th data-key="{k}" data-type="{"text" if k in TEXT_KEYS else "num"}" class="{"text" if k in TEXT_KEYS else "num"}">{escape(h)}</th>'
        for k, h, _ in cols
    )
    out = [f'<table class="board" id="board-{SECTION_IDS[section]}">', f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for i in indices:
        row = table.rows[i]
        cells = []
        for key, _, fn in cols:
            raw = sort_value(row, key)
            v = "" if raw is None else (str(raw) if key in TEXT_KEYS else repr(float(raw)))
            cls = ["text" if key in TEXT_KEYS else "num"] + (["best"] if key in best and i in best[key] else [])
            text = escape(fn(row)) + (escape(mark_text(row, BETTER, WORSE)) if key == table.meta["test_metric"] else "")
            cells.append(f'<td class="{" ".join(cls)}" data-v="{escape(v)}">{text}</td>')
        out.append(f'<tr data-order="{i}">{"".join(cells)}</tr>')
    return out + ["</tbody>", "</table>"]


def _sections_html(table: Table) -> list[str]:
    """A heading and a table for each page section that has rows, in PAGE_SECTIONS order."""
    out: list[str] = []
    for section in PAGE_SECTIONS:
        indices = [i for i, r in enumerate(table.rows) if page_section(r) == section]
        if indices:
            out += [f'<h2 id="section-{SECTION_IDS[section]}">{escape(section)}</h2>', *_table_html(table, section, indices)]
    return out


def render(table: Table) -> str:
    """The page as text."""
    from .plots import render_all

    prov = table.meta["provenance"]
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>solid-bench leaderboard</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        "<h1>solid-bench leaderboard</h1>",
        '<p><label>Filter rows: <input id="filter" type="search" placeholder="e.g. solid or tfidf"></label> <span id="count"></span></p>',
        *_sections_html(table),
        f'<p class="caption">{escape(caption(table, BETTER, WORSE))}</p>',
        "<h2>Plots</h2>",
    ]  # fmt: skip
    for name, svg in render_all(table, "svg").items():
        data = base64.b64encode(svg).decode("ascii")
        parts.append(f'<figure id="plot-{name}"><img alt="{name.replace("_", " ")}" src="data:image/svg+xml;base64,{data}"></figure>')
    parts.append("<footer>")
    parts += [f"<p>{escape(line)}</p>" for line in footer_lines(prov)]
    bibtex = "\n\n".join(prov["bibtex"])
    parts.append(f"<pre>{escape(bibtex)}</pre>")
    parts += ["</footer>", f"<script>{JS}</script>", "</body>", "</html>", ""]
    return "\n".join(parts)


@WRITERS.register("html")
def write_html(table: Table, out_dir: Path) -> list[Path]:
    """Write leaderboard.html (one self-contained file)."""
    path = Path(out_dir) / f"{STEM}.html"
    path.write_text(render(table), encoding="utf-8")
    return [path]
