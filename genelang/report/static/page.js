"use strict";
// The run page: renders a RunPage (genelang/report/model.py) into the DOM.
// Static reports carry it in #run-data; the live page (genelang serve) polls api/run.json.
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let page = null, sortKey = "id", sortDir = 1, picked = null, tableKey = null;

function fmt(v, digits = 4) {
  if (v === null || v === undefined) return "–";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return Number(v.toPrecision(digits)).toString();
}
function ago(t) {
  if (!t) return "–";
  const s = Math.max(0, Date.now() / 1000 - t);
  return s < 90 ? `${s.toFixed(0)} s ago` : s < 5400 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
}
function setText(id, text) { $(id).textContent = text; }
function el(tag, attrs = {}, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// A chart frame: maps data to pixels, draws the axes with min/max labels.
function frame(svg, xs, ys, xLabel, yLabel) {
  svg.replaceChildren();
  const W = svg.clientWidth || 560, H = svg.clientHeight || 260, L = 56, R = 12, T = 12, B = 30;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const lo = (a) => Math.min(...a), hi = (a) => Math.max(...a);
  let [x0, x1, y0, y1] = [lo(xs), hi(xs), lo(ys), hi(ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; } if (y0 === y1) { y0 -= 1; y1 += 1; }
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - R), sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  svg.append(el("svg:line", {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999"}),
             el("svg:line", {x1: L, y1: T, x2: L, y2: H - B, stroke: "#999"}),
             el("svg:text", {x: L, y: H - 8}, fmt(x0)), el("svg:text", {x: W - R, y: H - 8, "text-anchor": "end"}, fmt(x1)),
             el("svg:text", {x: (L + W) / 2, y: H - 8, "text-anchor": "middle"}, xLabel),
             el("svg:text", {x: L - 4, y: H - B, "text-anchor": "end"}, fmt(y0)),
             el("svg:text", {x: L - 4, y: T + 8, "text-anchor": "end"}, fmt(y1)),
             el("svg:text", {x: L + 6, y: T + 10}, yLabel));
  return {sx, sy};
}
function polyline(svg, pts, color) {
  svg.append(el("svg:polyline", {points: pts.map(([x, y]) => `${x},${y}`).join(" "), fill: "none", stroke: color, "stroke-width": 2}));
}
function empty(svg, text) {
  svg.replaceChildren(el("svg:text", {x: 20, y: 40}, text));
}

function renderHeader(d) {
  setText("run-name", d.name); setText("run-dir", d.run_dir);
  setText("strategy", d.strategy || "–"); setText("estimator", d.estimator || "–");
  setText("objectives", d.objectives.join(", "));
  const running = d.progress.running_pid !== null, state = $("state");
  state.textContent = running ? `running (pid ${d.progress.running_pid})` : "not running";
  state.className = "badge " + (running ? "running" : "finished");
  setText("updated", (document.body.dataset.mode === "live" ? "updated " : "read ") + new Date(d.generated * 1000).toLocaleString());
  // the live server serves the run's own files; a static report names them
  const live = document.body.dataset.mode === "live";
  $("files").replaceChildren(...d.files.flatMap((f, i) => [i ? " · " : "",
    live ? el("a", {href: "files/" + f.split("/").map(encodeURIComponent).join("/")}, f) : f]));
}
function renderProgress(d) {
  const p = d.progress;
  setText("generations-done", fmt(p.generations_done));
  setText("generations-total", p.generations ? ` / ${fmt(p.generations)}` : "");
  $("generations-bar").style.width = p.generations ? `${Math.min(100, 100 * p.generations_done / p.generations)}%` : "0";
  for (const k of ["evaluations", "ok", "failed", "infeasible"]) setText(`n-${k}`, fmt(p[k]));
  const best = d.evaluations.find((e) => e.id === d.best);
  const b = $("best-fitness"); b.textContent = best ? fmt(best.fitness, 6) : "–"; b.dataset.value = best ? best.fitness : "";
  setText("per-minute", fmt(p.per_minute, 3));
  setText("recent-per-minute", p.recent_per_minute !== null ? ` (last 5 min: ${fmt(p.recent_per_minute, 3)})` : "");
  setText("seconds-per-evaluation", fmt(p.seconds_per_evaluation, 3));
  setText("last-evaluation", ago(p.last));
}
function renderFitness(d) {
  const svg = $("fitness-chart"), g = d.generations.filter((p) => p.best_so_far !== null);
  if (!g.length) return empty(svg, "no successful evaluation yet");
  const {sx, sy} = frame(svg, g.map((p) => p.generation), g.flatMap((p) => [p.best_so_far, p.best].filter((v) => v !== null)), "generation", "fitness");
  polyline(svg, g.map((p) => [sx(p.generation), sy(p.best_so_far)]), "#3b7ddd");
  for (const p of g) if (p.best !== null)
    svg.append(el("svg:circle", {cx: sx(p.generation), cy: sy(p.best), r: 3, fill: "#888", "data-generation": p.generation, "data-best": p.best}));
}
function xMetric(d) {
  const other = d.objectives.map((o) => o.replace(/^-/, "")).find((o) => o !== "fitness");
  return other === "macs" ? "macs" : "params";
}
function renderPareto(d) {
  const svg = $("pareto-chart"), key = xMetric(d), front = new Set(d.pareto);
  let pts = d.evaluations.filter((e) => e.status === "ok" && e.fitness !== null);
  const useId = !pts.some((e) => e[key] !== null);
  const x = (e) => useId ? e.id : e[key];
  pts = pts.filter((e) => x(e) !== null);
  setText("pareto-axes", `(fitness against ${useId ? "evaluation id" : key}; the front in red)`);
  if (!pts.length) return empty(svg, "no successful evaluation yet");
  const {sx, sy} = frame(svg, pts.map(x), pts.map((e) => e.fitness), useId ? "evaluation" : key, "fitness");
  const ordered = pts.filter((e) => !front.has(e.id)).concat(pts.filter((e) => front.has(e.id)));
  for (const e of ordered) {
    const c = el("svg:circle", {cx: sx(x(e)), cy: sy(e.fitness), r: front.has(e.id) ? 5 : 3.5, "data-id": e.id,
                                 class: "pt" + (front.has(e.id) ? " front" : "") + (e.id === picked ? " picked" : "")});
    c.append(el("svg:title", {}, `#${e.id} fitness ${fmt(e.fitness, 6)}, ${key} ${fmt(e[key])}`));
    c.addEventListener("click", () => pick(e.id));
    svg.append(c);
  }
}
function pick(id) {
  picked = id;
  const e = page.evaluations.find((r) => r.id === id);
  setText("picked-title", e ? `#${e.id}, generation ${e.generation}, fitness ${fmt(e.fitness, 6)}` : "");
  setText("picked", e ? e.genome : "");
  for (const c of document.querySelectorAll("circle.pt")) c.classList.toggle("picked", Number(c.dataset.id) === id);
}
function renderCell(d) {
  const box = $("cell"), c = d.best_cell;
  if (!c) { box.replaceChildren(el("p", {class: "muted"}, "no successful evaluation yet")); setText("cell-title", ""); return; }
  setText("cell-title", `(evaluation #${c.evaluation})`);
  if (box.dataset.drawn === String(c.evaluation)) return;
  box.dataset.drawn = String(c.evaluation);
  if (c.svg) { box.innerHTML = c.svg; return; }   // Graphviz's own output for our DOT
  box.replaceChildren(el("p", {class: "muted"}, c.note || ""), el("pre", {}, c.dot));
}
function renderSupernet(d) {
  const pts = d.supernet_curve;
  $("supernet-box").hidden = !pts.length;
  if (!pts.length) return;
  const svg = $("supernet-chart"), {sx, sy} = frame(svg, pts.map((p) => p.step), pts.map((p) => p.loss), "step", "loss");
  polyline(svg, pts.map((p) => [sx(p.step), sy(p.loss)]), "#d9480f");
}
function renderFailures(d) {
  const body = $("failures").tBodies[0];
  if (!d.failures.length) { body.replaceChildren(el("tr", {}, "")); body.rows[0].append(el("td", {class: "t muted", colspan: 4}, "none")); return; }
  body.replaceChildren(...d.failures.map((f) => {
    const tr = el("tr", {class: f.status});
    tr.append(el("td", {class: "t"}, f.reason), el("td", {class: "t"}, f.status), el("td", {class: "count"}, fmt(f.ids.length)),
              el("td", {class: "t"}, f.ids.slice(0, 20).map((i) => "#" + i).join(" ") + (f.ids.length > 20 ? " …" : "")));
    return tr;
  }));
}
const SHOWN = 500;   // rows in the table at once: a one-shot search stores tens of thousands
const COLUMNS = ["id", "generation", "status", "fitness", "objectives", "params", "macs", "seconds", "reason", "genome"];
function cell(e, k) {
  if (k === "objectives") return e.objectives ? e.objectives.map((v) => fmt(v, 5)).join(", ") : "–";
  if (k === "fitness") return fmt(e.fitness, 6);
  if (k === "seconds") return fmt(e.seconds, 3);
  if (k === "reason") return e.reason ? e.reason.split("\n")[0] : "";
  return fmt(e[k]);
}
function renderTable(d) {
  const filter = $("status-filter").value;
  const key = [d.evaluations.length, d.best, sortKey, sortDir, filter].join("|");
  if (key === tableKey) return;    // nothing new: keep the rows (and any open <details>)
  tableKey = key;
  const rows = d.evaluations.filter((e) => !filter || e.status === filter);
  const val = (e) => sortKey === "objectives" ? (e.objectives ? e.objectives[0] : null) : e[sortKey];
  rows.sort((a, b) => {
    const x = val(a), y = val(b);
    if (x === y) return a.id - b.id;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * sortDir;
  });
  setText("table-note", rows.length > SHOWN ? `(the first ${SHOWN} of ${rows.length}; sort or filter to see others)` : "");
  $("evaluations").tBodies[0].replaceChildren(...rows.slice(0, SHOWN).map((e) => {
    const tr = el("tr", {"data-id": e.id, class: e.status + (e.id === d.best ? " best" : "")});
    for (const k of COLUMNS) {
      const td = el("td", {class: `c-${k}` + (["status", "objectives", "reason", "genome"].includes(k) ? " t" : "")});
      if (k === "genome") {
        const det = el("details"); det.append(el("summary", {}, e.phenotype), el("pre", {}, e.genome)); td.append(det);
      } else td.textContent = cell(e, k);
      if (["fitness", "params", "macs", "seconds"].includes(k) && e[k] !== null) td.dataset.value = e[k];
      if (k === "reason" && e.reason) td.title = e.reason;
      tr.append(td);
    }
    return tr;
  }));
  for (const th of $("evaluations").tHead.rows[0].cells)
    th.textContent = th.textContent.replace(/ [▲▼]$/, "") + (th.dataset.key === sortKey ? (sortDir > 0 ? " ▲" : " ▼") : "");
}
function render(d) {
  page = d;
  renderHeader(d); renderProgress(d); renderFitness(d); renderPareto(d); renderCell(d);
  renderSupernet(d); renderFailures(d); renderTable(d);
  if (picked === null && d.best !== null) pick(d.best); else if (picked !== null) pick(picked);
  document.body.dataset.evaluations = d.evaluations.length;   // tests wait for this
}
for (const th of document.querySelectorAll("#evaluations th")) th.addEventListener("click", () => {
  sortDir = sortKey === th.dataset.key ? -sortDir : (["fitness", "params", "macs", "seconds"].includes(th.dataset.key) ? -1 : 1);
  sortKey = th.dataset.key; render(page);
});
$("status-filter").addEventListener("change", () => render(page));

// Ask only for the evaluations the page lacks; if the merged list does not add
// up to the run's count (a --retry-failed replay retired some), ask for all.
async function fetchRun(after) {
  const r = await fetch("api/run.json" + (after === null ? "" : `?after=${after}`), {cache: "no-store"});
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}
async function poll() {
  try {
    const held = page ? page.evaluations : [];
    let d = await fetchRun(held.length ? held[held.length - 1].id : null);
    if (d.after !== null) d.evaluations = held.concat(d.evaluations);
    if (d.evaluations.length !== d.progress.evaluations) d = await fetchRun(null);
    render(d);
  } catch (err) {
    const s = $("state"); s.textContent = `cannot reach the server (${err.message}); retrying`; s.className = "badge stale";
  }
  setTimeout(poll, 2000);
}
const embedded = $("run-data").textContent.trim();
if (embedded) render(JSON.parse(embedded));
if (document.body.dataset.mode === "live") poll();
