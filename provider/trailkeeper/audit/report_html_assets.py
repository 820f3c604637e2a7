"""The HTML report's inline style and script (`audit/report_html.py`): nothing is fetched, nothing is needed.

The style reads at a laptop's width (wide tables scroll inside their own box, the first column stays in
view) and prints on paper (no controls, no scrolling boxes, rows kept whole, statuses in words as well as
colours). The script only adds: sorting a table by a column (click its heading) and filtering the findings
by status, standard and text. Without it, every row is shown, in the audit's order.
"""

from __future__ import annotations

# A policy that forbids every load: should any value ever escape its escaping, it still fetches nothing.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
:root { --fail: #b3261e; --pass: #1b6e3a; --na: #7a5b00; --none: #6b6b6b; --line: #d0d4d9; --head: #f3f5f7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1f21; margin: 0;
       padding: 1.5rem; max-width: 1400px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
p.meta { color: #4a4f55; margin: 0 0 1rem; }
.totals { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; padding: 0; list-style: none; }
.totals li { border: 1px solid var(--line); border-radius: 6px; padding: .35rem .75rem; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
th.sortable { cursor: pointer; } th.sortable::after { content: " \\2195"; color: #8a9096; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.matrix td, .matrix th { text-align: center; white-space: nowrap; padding: .25rem .4rem; }
.matrix th.where, .matrix td.where { text-align: left; position: sticky; left: 0; background: #fff; z-index: 1; }
.matrix thead th.where { background: var(--head); }
.FAIL { color: #fff; background: var(--fail); font-weight: 600; }
.PASS { color: var(--pass); } .NOT_AVAILABLE { color: var(--na); background: #fff4cc; } .NONE { color: var(--none); }
.badge { display: inline-block; border-radius: 4px; padding: 0 .35rem; font-size: .8rem; font-weight: 600; }
td.resource, td.reason { word-break: break-word; min-width: 14rem; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: .8rem; background: #f7f8fa;
      padding: .35rem; border-radius: 4px; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
.filters input, .filters select { font: inherit; padding: .2rem .4rem; }
.legend span { margin-right: 1rem; }
.hidden { display: none; }
@media (max-width: 900px) { body { padding: .75rem; } td.reason { min-width: 10rem; } }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  .filters, noscript { display: none; }
  .scroll { overflow: visible; border: 0; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .hidden { display: table-row; }
  .FAIL { color: #000; background: none; text-decoration: underline; }
  .NOT_AVAILABLE { background: none; }
  .matrix th.where, .matrix td.where { position: static; }
}
"""

SCRIPT = """
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    var text = cell ? (cell.getAttribute('data-sort') || cell.textContent) : '';
    var number = parseFloat(text);
    return isNaN(number) ? text.toLowerCase() : number;
  }
  document.querySelectorAll('table.sorted').forEach(function (table) {
    table.querySelectorAll('th.sortable').forEach(function (heading) {
      heading.addEventListener('click', function () {
        var index = Array.prototype.indexOf.call(heading.parentNode.children, heading);
        var body = table.tBodies[0];
        var ascending = heading.getAttribute('data-order') !== 'ascending';
        heading.setAttribute('data-order', ascending ? 'ascending' : 'descending');
        Array.prototype.slice.call(body.rows).sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        }).forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  var filters = document.getElementById('filters');
  if (!filters) { return; }
  filters.classList.remove('hidden');
  function apply() {
    var text = document.getElementById('filter-text').value.toLowerCase();
    var status = document.getElementById('filter-status').value;
    var standard = document.getElementById('filter-standard').value;
    document.querySelectorAll('tr.finding').forEach(function (row) {
      var shown = (!status || row.getAttribute('data-status') === status) &&
                  (!standard || row.getAttribute('data-standard') === standard) &&
                  (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
      row.classList.toggle('hidden', !shown);
    });
  }
  filters.addEventListener('input', apply);
  filters.addEventListener('change', apply);
})();
"""
