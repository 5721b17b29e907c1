"""A self-contained HTML page: sortable, filterable table, inline plots, caption and provenance.

No network: CSS, JavaScript and the plots (SVG as data URIs) are inline. Click a header to sort
(again to reverse); type in the filter box to hide rows that do not contain the text. The URL
fragment applies both at load, e.g. ``leaderboard.html#sort=micro_f1&dir=desc&filter=tfidf``.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .provenance import footer_lines
from .table import METRICS, Table
from .writers import STEM, TEXT_COLUMNS, WRITERS, best_rows, caption, display_columns, mark_text, sort_value

BETTER, WORSE = "▲", "▼"
TEXT_KEYS = TEXT_COLUMNS

CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 8px;white-space:nowrap;border-bottom:1px solid #ddd;text-align:right}
th{cursor:pointer;background:#f4f4f4;user-select:none}th.text,td.text{text-align:left}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
tr[hidden]{display:none}.best{font-weight:bold}.caption{max-width:70em;font-size:13px}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}pre{background:#f8f8f8;padding:1em;overflow:auto}
footer{font-size:12px;color:#555;border-top:1px solid #ccc;margin-top:2em}#filter{width:20em}"""

JS = """(function(){
var table=document.getElementById('board'),tbody=table.tBodies[0],input=document.getElementById('filter');
var heads=table.tHead.rows[0].cells,state={key:null,dir:null};
function value(td,type){var v=td.getAttribute('data-v');if(type!=='num')return v;return v===''?null:parseFloat(v);}
function sortBy(key,dir){var idx=-1,type='text';
 for(var i=0;i<heads.length;i++){heads[i].removeAttribute('aria-sort');
  if(heads[i].getAttribute('data-key')===key){idx=i;type=heads[i].getAttribute('data-type');}}
 if(idx<0)return;
 var rows=Array.prototype.slice.call(tbody.rows);
 rows.sort(function(a,b){var x=value(a.cells[idx],type),y=value(b.cells[idx],type),c=0;
  if(x===y)c=0;else if(x===null)return 1;else if(y===null)return -1;else c=x<y?-1:1;
  if(dir==='desc')c=-c;return c||(a.getAttribute('data-order')-b.getAttribute('data-order'));});
 rows.forEach(function(r){tbody.appendChild(r);});
 heads[idx].setAttribute('aria-sort',dir==='desc'?'descending':'ascending');state.key=key;state.dir=dir;}
function filter(q){q=(q||'').toLowerCase();var shown=0,rows=tbody.rows;
 for(var i=0;i<rows.length;i++){var hit=!q||rows[i].textContent.toLowerCase().indexOf(q)>=0;rows[i].hidden=!hit;if(hit)shown++;}
 document.getElementById('count').textContent=shown+' of '+rows.length+' rows shown';}
for(var i=0;i<heads.length;i++){heads[i].addEventListener('click',function(){var key=this.getAttribute('data-key');
 var first=this.getAttribute('data-type')==='num'?'desc':'asc';
 sortBy(key,state.key===key?(state.dir==='asc'?'desc':'asc'):first);});}
input.addEventListener('input',function(){filter(input.value);});
var params=new URLSearchParams(location.hash.replace(/^#/,''));
if(params.get('sort'))sortBy(params.get('sort'),params.get('dir')==='asc'?'asc':'desc');
if(params.get('filter')!==null){input.value=params.get('filter');}
filter(input.value);
})();"""


def _table_html(table: Table) -> list[str]:
    cols = display_columns(table)
    best = {m: best_rows(table, m) for m in METRICS}
    head = "".join(
        f'<th data-key="{k}" data-type="{"text" if k in TEXT_KEYS else "num"}" class="{"text" if k in TEXT_KEYS else "num"}">{escape(h)}</th>'
        for k, h, _ in cols
    )
    out = ['<table id="board">', f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for i, row in enumerate(table.rows):
        cells = []
        for key, _, fn in cols:
            raw = sort_value(row, key)
            v = "" if raw is None else (str(raw) if key in TEXT_KEYS else repr(float(raw)))
            cls = ["text" if key in TEXT_KEYS else "num"] + (["best"] if key in best and i in best[key] else [])
            text = escape(fn(row)) + (escape(mark_text(row, BETTER, WORSE)) if key == table.meta["test_metric"] else "")
            cells.append(f'<td class="{" ".join(cls)}" data-v="{escape(v)}">{text}</td>')
        out.append(f'<tr data-order="{i}">{"".join(cells)}</tr>')
    return out + ["</tbody>", "</table>"]


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
        *_table_html(table),
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
