/**
 * The web UI's stylesheet and script, hand-written and shipped as strings in the package:
 * no front-end build, nothing fetched at run time, and the page's Content-Security-Policy
 * allows only these two files (no inline script or style).
 *
 * The script does three things: live updates (an `EventSource` on the server's events of a
 * page, each event reloading the page's live fragment in place, keeping open tree nodes
 * open), the job tree's expand/collapse-all buttons, and the dataflow graph's pan by drag.
 */

/** `/assets/redun.css`. */
export const STYLESHEET = `
:root { --fg: #1d2330; --muted: #667085; --line: #e3e6ec; --bg: #f7f8fa; --accent: #2f5fd0;
  --done: #1f8a4c; --cached: #6b52c8; --failed: #c8322b; --running: #c27a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2330; }
header a { color: #d6dbe6; text-decoration: none; }
header .brand { font-weight: 700; font-size: 18px; color: #fff; }
header nav { display: flex; gap: 16px; }
header nav a.current { color: #fff; border-bottom: 2px solid #8fb0ff; }
header .jump { margin-left: auto; }
header .jump input { width: 280px; padding: 5px 8px; border-radius: 4px; border: 0; }
main { padding: 18px 24px 40px; max-width: 1400px; }
footer { padding: 12px 24px; color: var(--muted); font-size: 12px; }
h1 { font-size: 20px; margin: 4px 0 12px; }
h1 .sub { color: var(--muted); font-weight: 400; font-size: 15px; }
h2 { font-size: 16px; margin: 26px 0 8px; }
a { color: var(--accent); }
a.id, code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef0f4; font-weight: 600; font-size: 12.5px; }
tr:hover td { background: #fafbfd; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11.5px; font-weight: 600;
  color: #fff; background: var(--muted); }
.badge.done { background: var(--done); } .badge.cached { background: var(--cached); }
.badge.failed { background: var(--failed); } .badge.running, .badge.pending { background: var(--running); }
.badge.interrupted, .badge.cancelled { background: #8a6d3b; }
.counts .count { margin-right: 8px; font-size: 12px; white-space: nowrap; }
.count.done { color: var(--done); } .count.cached { color: var(--cached); }
.count.failed { color: var(--failed); } .count.running, .count.pending { color: var(--running); }
.tag { display: inline-block; background: #e8edf8; border-radius: 3px; padding: 0 6px; margin: 0 4px 2px 0;
  font-size: 12px; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff;
  border: 1px solid var(--line); padding: 10px 14px; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
pre { background: #fff; border: 1px solid var(--line); padding: 10px 12px; overflow: auto; max-height: 520px;
  white-space: pre-wrap; word-break: break-word; margin: 0; }
pre.error { border-color: #f0b4b0; background: #fff6f5; color: #7a1c17; }
.filters { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin-bottom: 12px; }
.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.filters input, .filters select { padding: 5px 7px; border: 1px solid #c9ced8; border-radius: 4px; }
.filters button, .tree-tools button { padding: 5px 12px; border: 1px solid #c9ced8; border-radius: 4px;
  background: #fff; cursor: pointer; }
.tree { background: #fff; border: 1px solid var(--line); padding: 8px 10px; }
.tree details, .tree .leaf { margin-left: 18px; }
.tree > details, .tree > .leaf { margin-left: 0; }
.tree summary { cursor: pointer; }
.tree .line { display: inline-flex; gap: 8px; align-items: baseline; padding: 2px 0; }
.tree .leaf .line { padding-left: 14px; }
.tree .call { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.tree-tools { margin: 6px 0; display: flex; gap: 6px; }
.why { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent); padding: 10px 14px; }
.why.replayed { border-left-color: var(--cached); }
.why p { margin: 4px 0; }
.diff { width: 100%; table-layout: fixed; }
.diff td { padding: 1px 8px; border: 0; }
.diff td code { font-size: 12px; white-space: pre-wrap; }
.diff .del { background: #fde8e7; } .diff .add { background: #e4f6ea; }
.diff .gap td { background: #f1f3f6; color: var(--muted); }
.versions { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(320px, 1fr); gap: 12px; overflow-x: auto; }
.versions section h3 { font-size: 13px; margin: 0 0 4px; }
.graph, .timeline { background: #fff; border: 1px solid var(--line); overflow: auto; max-height: 80vh; }
.graph svg text, .timeline svg text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: var(--fg); }
.graph .node rect { fill: #fff; stroke: #9aa6bd; rx: 5; }
.graph .node.failed rect { stroke: var(--failed); stroke-width: 2; }
.graph .node.cached rect { fill: #f2effc; }
.graph .node.running rect, .graph .node.pending rect { stroke: var(--running); stroke-dasharray: 4 2; }
.graph .node:hover rect { stroke: var(--accent); stroke-width: 2; }
.graph path.data { stroke: var(--accent); fill: none; stroke-width: 1.5; }
.graph path.calls { stroke: #b8bfcc; fill: none; stroke-dasharray: 4 3; }
.graph text.edge-label { fill: var(--accent); font-size: 11px; }
.graph .legend { margin: 6px 10px; font-size: 12px; color: var(--muted); }
.timeline rect.bar { fill: var(--done); } .timeline rect.bar.cached { fill: var(--cached); }
.timeline rect.bar.failed { fill: var(--failed); }
.timeline rect.bar.running, .timeline rect.bar.pending { fill: var(--running); }
.timeline line.grid { stroke: var(--line); }
.live-note { color: var(--running); font-size: 12px; margin-left: 8px; }
.error-page { background: #fff; border: 1px solid #f0b4b0; padding: 16px 20px; }
.pager { margin-top: 10px; display: flex; gap: 12px; }
`;

/** `/assets/redun.js`. */
export const SCRIPT = `
"use strict";
(function () {
  function openIds(root) {
    var ids = [];
    root.querySelectorAll("details[data-id]").forEach(function (d) {
      if (d.open) ids.push(d.getAttribute("data-id"));
    });
    return ids;
  }
  function restoreOpen(root, ids) {
    root.querySelectorAll("details[data-id]").forEach(function (d) {
      if (ids.indexOf(d.getAttribute("data-id")) >= 0) d.open = true;
    });
  }
  function refresh(live) {
    var url = live.getAttribute("data-fragment");
    var open = openIds(live);
    return fetch(url, { headers: { accept: "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (text) {
        live.innerHTML = text;
        restoreOpen(live, open);
        bindTree(live);
        live.setAttribute("data-updated", String(Date.now()));
      })
      .catch(function () { /* the next event tries again */ });
  }
  function watch(live) {
    var events = live.getAttribute("data-events");
    if (!events || typeof EventSource === "undefined") return;
    var source = new EventSource(events);
    source.addEventListener("update", function () { refresh(live); });
    source.addEventListener("done", function () { source.close(); refresh(live); });
  }
  function bindTree(root) {
    root.querySelectorAll("[data-tree-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var tree = document.getElementById(button.getAttribute("data-tree"));
        var open = button.getAttribute("data-tree-action") === "expand";
        if (tree) tree.querySelectorAll("details").forEach(function (d) { d.open = open; });
      });
    });
  }
  function bindGraph(root) {
    root.querySelectorAll(".graph").forEach(function (box) {
      var start = null;
      box.addEventListener("mousedown", function (e) {
        if (e.target.closest("a")) return;
        start = { x: e.clientX, y: e.clientY, left: box.scrollLeft, top: box.scrollTop };
        e.preventDefault();
      });
      window.addEventListener("mousemove", function (e) {
        if (!start) return;
        box.scrollLeft = start.left - (e.clientX - start.x);
        box.scrollTop = start.top - (e.clientY - start.y);
      });
      window.addEventListener("mouseup", function () { start = null; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    bindTree(document);
    bindGraph(document);
    document.querySelectorAll("[data-events]").forEach(watch);
  });
})();
`;
