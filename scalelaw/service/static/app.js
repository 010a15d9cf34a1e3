// The pages of scalelaw's web tool; every number comes from the service's API (/v1).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};

// ---- numbers -------------------------------------------------------------------------------------

/** A JSON number of the API ({"$float": "nan"} for non-finite ones) as a JS number. */
function num(v) {
  if (v && typeof v === "object" && "$float" in v) {
    return { nan: NaN, inf: Infinity, "-inf": -Infinity }[v.$float] ?? NaN;
  }
  return typeof v === "number" ? v : NaN;
}

/** Three significant digits, trailing zeros trimmed to one decimal: 5.00 -> "5.0", 12.3 -> "12.3". */
function sig3(x) {
  let s = x.toPrecision(3);
  if (s.includes("e")) return s;
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, ".0");
  return s;
}

/** A count with an SI suffix: 4998815 -> "5.0M", 7e9 -> "7.0B". */
function si(x) {
  x = num(x);
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  for (const [f, s] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]]) {
    if (a >= f) return sig3(x / f) + s;
  }
  return sig3(x);
}

/** An amount of money (any currency): 3 significant digits, whole units from 100 up: 1,063. */
const money = (x) => (Number.isFinite(num(x)) ? (num(x) >= 100 ? Math.round(num(x)).toLocaleString("en") : sig3(num(x))) : "–");

/** A small or large number in exponent form with 3 significant digits: 9.17e-4. */
function sci(x) {
  x = num(x);
  if (!Number.isFinite(x)) return "–";
  if (x !== 0 && (Math.abs(x) < 1e-2 || Math.abs(x) >= 1e5)) {
    return x.toExponential(2).replace("e+", "e");
  }
  return sig3(x);
}

/** A tick label: 1e-3, 0.01, 100M, 1B (no trailing ".0"). */
function tick(x, f) {
  return f === sci ? (x >= 1e-2 && x < 1e5 ? String(+x.toPrecision(3)) : x.toExponential(0).replace("e+", "e"))
    : f(x).replace(/\.0(?=[A-Z]|$)/, "");
}

const interval = (lo, hi, f) => (Number.isFinite(num(lo)) && Number.isFinite(num(hi)) ? `[${f(lo)}, ${f(hi)}]` : "");

// ---- the API -------------------------------------------------------------------------------------

function headers(extra = {}) {
  const token = localStorage.getItem("scalelaw-token");
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** The API's answer as JSON; a failure throws an Error whose .body is the API's error body. */
async function api(path, { method = "GET", json, form } = {}) {
  const init = { method, headers: headers() };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers = headers({ "Content-Type": "application/json" });
  } else if (form !== undefined) {
    init.body = form;
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) {
    let line = body.error || `${response.status} ${response.statusText}`;
    if (response.status === 401) line += " (enter it under Token at the top of the page)";
    const err = new Error(line);
    err.body = body;
    err.status = response.status;
    throw err;
  }
  return body;
}

/** Show one error line in ``node`` (hidden when ``text`` is empty). */
function say(node, text) {
  if (!node) return;
  node.textContent = text || "";
  node.hidden = !text;
}

const debounce = (fn, ms) => {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
};

function warningsList(node, warnings) {
  node.replaceChildren(...(warnings || []).map((w) => el("li", { text: w })));
}

// ---- figures: log-log panels as inline SVG --------------------------------------------------------

const SVGNS = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}, text) => {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};

/** One log-log panel of ``xs``, ``ys``; ``band`` [lo, hi] on x shaded ("measured range"); ``point`` marked. */
function logPanel({ xs, ys, xlabel, ylabel, yfmt, xfmt, band, bandLabel = "measured", point, title }) {
  const W = 360, H = 250, L = 62, R = 12, T = 24, B = 44;
  const lx = xs.map(Math.log10), ly = ys.map(Math.log10);
  let [x0, x1] = [Math.min(...lx), Math.max(...lx)];
  let [y0, y1] = [Math.min(...ly), Math.max(...ly)];
  if (y1 - y0 < 0.2) { y0 -= 0.1; y1 += 0.1; }
  const pad = (y1 - y0) * 0.08; y0 -= pad; y1 += pad;
  const px = (v) => L + ((Math.log10(v) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v) => T + (1 - (Math.log10(v) - y0) / (y1 - y0)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "panel", role: "img", "aria-label": title });
  root.append(svg("text", { x: L, y: 15, class: "title" }, title));
  if (band) {
    const a = Math.max(px(band[0]), L), b = Math.min(px(band[1]), W - R);
    if (b > a) {
      root.append(svg("rect", { x: a, y: T, width: b - a, height: H - T - B, class: "band" }));
      root.append(svg("text", { x: (a + b) / 2, y: T + 12, class: "band-label", "text-anchor": "middle" }, bandLabel));
    }
  }
  root.append(svg("rect", { x: L, y: T, width: W - L - R, height: H - T - B, class: "frame" }));
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const x = px(10 ** e);
    root.append(svg("line", { x1: x, x2: x, y1: H - B, y2: H - B + 4, class: "tick" }));
    root.append(svg("text", { x, y: H - B + 16, "text-anchor": "middle" }, tick(10 ** e, xfmt)));
  }
  const ticks = [];
  for (let e = Math.floor(y0); e <= Math.ceil(y1); e++) {
    for (const m of (y1 - y0 < 1.2 ? [1, 2, 5] : [1])) ticks.push(m * 10 ** e);
  }
  for (const t of ticks.filter((t) => Math.log10(t) >= y0 && Math.log10(t) <= y1)) {
    const y = py(t);
    root.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: L - 5, y: y + 4, "text-anchor": "end" }, tick(t, yfmt)));
  }
  root.append(svg("polyline", { points: xs.map((x, i) => `${px(x)},${py(ys[i])}`).join(" "), class: "line" }));
  if (point) root.append(svg("circle", { cx: px(point[0]), cy: py(point[1]), r: 4.5, class: "point" }));
  root.append(svg("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", class: "label" }, xlabel));
  root.append(svg("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", class: "label",
    transform: `rotate(-90 14 ${(T + H - B) / 2})` }, ylabel));
  return root;
}

// ---- the calculator ------------------------------------------------------------------------------

/** The measured ranges of a law (a published one's, or a fitted law's artifact). */
function findRanges(obj, depth = 0) {
  if (!obj || typeof obj !== "object" || depth > 6) return null;
  if (obj.ranges && typeof obj.ranges === "object" && !Array.isArray(obj.ranges)) return obj.ranges;
  for (const v of Object.values(obj)) {
    const found = findRanges(v, depth + 1);
    if (found) return found;
  }
  return null;
}

function initCalculator() {
  const fields = { params: $("#params"), tokens: $("#tokens"), seq_len: $("#seq-len"), law: $("#law") };
  const errors = { params: $("#params-error"), tokens: $("#tokens-error"), seq_len: $("#seq-len-error"),
    law: $("#law-error") };
  const lawRanges = {};
  for (const option of document.querySelectorAll("#law-published option")) {
    lawRanges[option.value] = JSON.parse(option.dataset.ranges || "{}");
  }
  let asked = 0;

  const request = (law, body) => (law.startsWith("fit:")
    ? api(`/v1/fits/${encodeURIComponent(law.slice(4))}/recommend`, { method: "POST", json: body })
    : api("/v1/hparams/recommend", { method: "POST", json: { law, ...body } }));

  function clearErrors() {
    for (const node of Object.values(errors)) say(node, "");
    say($("#calc-error"), "");
  }

  function showError(err) {
    const field = (err.body && err.body.field) || "";
    const key = field.replace(/=$/, "").replace("-", "_");
    say(errors[key] || $("#calc-error"), err.message);
    if (errors[key]) fields[key].setAttribute("aria-invalid", "true");
  }

  function show(r) {
    $("#lr").textContent = sci(r.lr);
    $("#batch-size").textContent = `${si(r.batch_size)} tokens`;
    $("#batch-sequences").textContent = `${Math.round(num(r.batch_size_sequences)).toLocaleString("en")} sequences of ${Math.round(num(r.seq_len))} tokens`;
    $("#tokens-per-param").textContent = sig3(num(r.tokens_per_param));
    const iv = r.intervals || {};
    const lr = iv.lr || {}, bs = iv.batch_size || {};
    const level = iv.level ? `${Math.round(100 * iv.level)}% ` : "";
    $("#lr-interval").textContent = interval(lr.lower, lr.upper, sci) && `${level}${interval(lr.lower, lr.upper, sci)}`;
    $("#batch-interval").textContent = interval(bs.lower, bs.upper, si) && `${level}${interval(bs.lower, bs.upper, si)}`;
    const plateau = $("#plateau");
    plateau.replaceChildren();
    if (r.plateau && r.plateau.length) {
      const table = el("table", { class: "small" }, el("caption", { text: "plateau: loss within the tolerance" }));
      table.append(el("tr", {}, el("th", { text: "tolerance" }), el("th", { text: "lr" }), el("th", { text: "batch (tokens)" })));
      for (const p of r.plateau) {
        table.append(el("tr", {}, el("td", { text: `${sig3(100 * num(p.tolerance))}%` }),
          el("td", { text: interval(p.lr[0], p.lr[1], sci) }),
          el("td", { text: interval(p.batch_size[0], p.batch_size[1], si) })));
      }
      plateau.append(table);
    }
    $("#formulas").textContent = Object.values(r.formulas || {}).join("; ");
    warningsList($("#warnings"), r.warnings);
  }

  async function figure(law, body, r) {
    const n = num(r.params), d = num(r.tokens);
    const ranges = lawRanges[law] || {};
    let band = ranges.params, bandLabel = "measured";
    if (!band && ranges.nonembedding_flops) {
      band = ranges.nonembedding_flops.map((c) => c / (6 * d));
      bandLabel = "measured C = 6ND";
    }
    const lo = Math.min(n, band ? band[0] : n) / 4, hi = Math.max(n, band ? band[1] : n) * 4;
    const xs = Array.from({ length: 13 }, (_, i) => lo * (hi / lo) ** (i / 12));
    const answers = await Promise.all(xs.map((x) => request(law, { ...body, params: x }).catch(() => null)));
    const ok = answers.map((a, i) => [xs[i], a]).filter(([, a]) => a);
    if (ok.length < 2) return;
    const px = ok.map(([x]) => x);
    $("#figure").replaceChildren(
      logPanel({ xs: px, ys: ok.map(([, a]) => num(a.lr)), title: "peak learning rate", xlabel: "model size N (parameters)",
        ylabel: "learning rate", xfmt: si, yfmt: sci, band, bandLabel, point: [n, num(r.lr)] }),
      logPanel({ xs: px, ys: ok.map(([, a]) => num(a.batch_size)), title: "batch size", xlabel: "model size N (parameters)",
        ylabel: "batch size (tokens)", xfmt: si, yfmt: si, band, bandLabel, point: [n, num(r.batch_size)] }));
  }

  async function update() {
    const mine = ++asked;
    const law = fields.law.value;
    const body = { params: fields.params.value.trim(), tokens: fields.tokens.value.trim() };
    if (fields.seq_len.value.trim()) body.seq_len = fields.seq_len.value.trim();
    try {
      const r = await request(law, body);
      if (mine !== asked) return;
      clearErrors();
      for (const f of Object.values(fields)) f.removeAttribute("aria-invalid");
      show(r);
      figure(law, { tokens: body.tokens, seq_len: body.seq_len }, r).catch(() => {});
    } catch (err) {
      if (mine !== asked) return;
      clearErrors();
      showError(err);
    }
  }

  async function loadFitted() {
    try {
      const listing = await api("/v1/fits?family=hparams&limit=200");
      const group = $("#law-fitted");
      for (const fit of listing.fits) {
        lawRanges[`fit:${fit.id}`] = findRanges(fit.artifact) || {};
        group.append(el("option", { value: `fit:${fit.id}`, text: `${fit.name} (fit ${fit.id.slice(0, 8)})` }));
      }
      if (!listing.fits.length) group.append(el("option", { disabled: "", text: "none yet: fit one on the Fits page" }));
    } catch (err) {
      say($("#law-error"), `fitted laws: ${err.message}`);
    }
  }

  const later = debounce(update, 250);
  for (const f of [fields.params, fields.tokens, fields.seq_len]) f.addEventListener("input", later);
  fields.law.addEventListener("change", update);
  const wanted = new URLSearchParams(location.search).get("law");
  loadFitted().then(() => {
    if (wanted && [...fields.law.options].some((o) => o.value === wanted)) { fields.law.value = wanted; update(); }
  });
  if (!wanted) update();
}

// ---- the fit explorer ----------------------------------------------------------------------------

/** The law of a stored fit's artifact, in a word. */
function lawName(artifact) {
  if (!artifact) return "";
  const law = artifact.law;
  if (law && typeof law === "object" && law.name) return law.name;
  if (typeof law === "string") return law;
  if (artifact.fits) {
    const first = Object.values(artifact.fits)[0];
    return (artifact.settings && artifact.settings.method) || lawName(first && (first.fit || first));
  }
  return artifact.kind || "";
}

/** Rows of a stored fit: the artifact's data.rows, or the sum over its groups. */
function rowCount(artifact) {
  if (!artifact) return NaN;
  if (artifact.data && Number.isFinite(num(artifact.data.rows))) return num(artifact.data.rows);
  if (artifact.fits) {
    const counts = Object.values(artifact.fits).map((f) => rowCount(f.fit || f));
    if (counts.every(Number.isFinite)) return counts.reduce((a, b) => a + b, 0);
  }
  return NaN;
}

/** "starts=hoffmann, exclude_highest=5" as form fields. */
function parseOptions(text) {
  const out = [];
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const [key, ...rest] = part.split("=");
    out.push([key.replace(/^--/, "").replaceAll("-", "_"), rest.length ? rest.join("=") : "true"]);
  }
  return out;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const when = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "");

function initExplorer() {
  const form = $("#fit-form");
  const families = JSON.parse(form.dataset.families);
  const family = $("#family"), command = $("#command"), law = $("#fit-law");
  const status = $("#fit-status"), error = $("#fit-error"), submit = $("#fit-submit");
  let lossLaws = [];

  function fillCommands() {
    command.replaceChildren(...families[family.value].map((c) => el("option", { value: c, text: c })));
    law.replaceChildren(el("option", { value: "", text: "the family's default" }));
    if (family.value === "loss") for (const name of lossLaws) law.append(el("option", { value: name, text: name }));
  }

  async function loadList() {
    try {
      const listing = await api("/v1/fits?limit=100");
      $("#fits-total").textContent = `(${listing.total})`;
      const rows = listing.fits.map((fit) => el("tr", {},
        el("td", {}, el("a", { href: `/fits/${encodeURIComponent(fit.id)}`, text: fit.name || fit.id })),
        el("td", { text: fit.family }), el("td", { text: lawName(fit.artifact) }),
        el("td", { class: "num", text: Number.isFinite(rowCount(fit.artifact)) ? String(rowCount(fit.artifact)) : "" }),
        el("td", { text: when(fit.created) })));
      if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "5", text: "no fits yet: upload a log above" })));
      $("#fits-table tbody").replaceChildren(...rows);
      say($("#fits-error"), "");
    } catch (err) {
      say($("#fits-error"), err.message);
    }
  }

  async function fit() {
    say(error, "");
    const file = $("#upload").files[0];
    if (!file) { say(error, "choose a log file to fit"); return; }
    const data = new FormData();
    data.append("file", file);
    data.append("family", family.value);
    data.append("command", command.value);
    if (law.value) data.append("law", law.value);
    if ($("#fit-name").value.trim()) data.append("name", $("#fit-name").value.trim());
    if ($("#bootstrap").value.trim()) data.append("bootstrap", $("#bootstrap").value.trim());
    for (const [k, v] of parseOptions($("#options").value)) data.append(k, v);
    submit.disabled = true;
    status.textContent = "uploading…";
    try {
      let job = await api("/v1/fits", { method: "POST", form: data });
      const started = Date.now();
      while (job.status === "queued" || job.status === "running") {
        status.textContent = `job ${job.id.slice(0, 8)}: ${job.status}, ${Math.round((Date.now() - started) / 1000)} s`;
        await wait(300);
        job = await api(`/v1/jobs/${encodeURIComponent(job.id)}`);
      }
      if (job.status === "done") {
        status.replaceChildren(`done: `, el("a", { href: `/fits/${encodeURIComponent(job.fit_id)}`, id: "fit-link",
          text: "open the fit" }));
        status.dataset.fitId = job.fit_id;
      } else {
        status.textContent = `job ${job.id.slice(0, 8)}: ${job.status}`;
        say(error, job.error || "the fit failed");
      }
    } catch (err) {
      status.textContent = "";
      say(error, err.message);
    } finally {
      submit.disabled = false;
      loadList();
    }
  }

  family.addEventListener("change", fillCommands);
  submit.addEventListener("click", fit);
  api("/v1/laws").then((r) => { lossLaws = r.laws.map((l) => l.name); fillCommands(); }).catch(() => {});
  fillCommands();
  loadList();
}

/** (group, name, value, [lower, upper]) of every fitted parameter in an artifact, groups recursed. */
function parameterRows(artifact, group = "") {
  if (!artifact || typeof artifact !== "object") return [];
  if (artifact.fits && typeof artifact.fits === "object") {
    return Object.entries(artifact.fits).flatMap(([name, f]) => parameterRows(f, group ? `${group} / ${name}` : name));
  }
  if (artifact.fit && typeof artifact.fit === "object") return parameterRows(artifact.fit, group);
  if (artifact.params && typeof artifact.params === "object" && !Array.isArray(artifact.params)) {
    const iv = artifact.intervals || {};
    return Object.entries(artifact.params).filter(([, v]) => typeof v === "number" || (v && v.$float))
      .map(([name, v]) => [group, name, num(v), iv[name] || null]);
  }
  return [];
}

/** A fitted value: 5 significant digits (E = 1.8172), exponent form outside 1e-3..1e5. */
function paramCell(v) {
  if (!Number.isFinite(v)) return "–";
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(+v.toPrecision(5)) : v.toExponential(4).replace("e+", "e");
}

function numberCell(v) {
  if (!Number.isFinite(v)) return "–";
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toPrecision(4) : v.toExponential(3).replace("e+", "e");
}

function answerTable(answer, skip = ["warnings", "extrapolating", "inputs", "level", "target", "method"]) {
  const table = el("table", { class: "small" });
  for (const [k, v] of Object.entries(answer)) {
    if (skip.includes(k) || (v && typeof v === "object" && !("$float" in v))) continue;
    table.append(el("tr", {}, el("th", { text: k.replaceAll("_", " ") }),
      el("td", { class: "num", text: typeof v === "string" ? v : numberCell(num(v)) })));
  }
  return table;
}

async function initFitPage() {
  const page = $("#fit-page");
  const id = page.dataset.fitId;
  let fit;
  try {
    fit = await api(`/v1/fits/${encodeURIComponent(id)}`);
  } catch (err) {
    say($("#fit-load-error"), err.message);
    return;
  }
  const a = fit.artifact || {};
  $("#fit-title").textContent = fit.name || fit.id;
  $("#fit-about").textContent = `${fit.family} · ${lawName(a)} · ${Number.isFinite(rowCount(a)) ? `${rowCount(a)} rows · ` : ""}`
    + `created ${when(fit.created)}${fit.created_by ? ` by ${fit.created_by}` : ""} · id ${fit.id}`;
  const level = num(a.level) || 0.95;
  $("#params-table thead th:last-child").textContent = `${Math.round(100 * level)}% interval`;
  const rows = parameterRows(a).map(([group, name, value, iv]) => el("tr", { "data-param": name, "data-group": group },
    el("td", { text: group }), el("td", { text: name }),
    el("td", { class: "num", text: paramCell(value) }),
    el("td", { class: "interval", text: iv ? interval(iv[0], iv[1], numberCell) : "–" })));
  if (rows.every((r) => !r.dataset.group)) $("#params-table").classList.add("no-group");
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: "4", text: "no fitted parameters in this artifact" })));
  $("#params-table tbody").replaceChildren(...rows);
  const diag = $("#diagnostics");
  for (const [k, v] of Object.entries({ ...(a.metrics || {}), ...(a.diagnostics || {}) })) {
    if (v === null || typeof v === "object") continue;
    diag.append(el("dt", { text: k.replaceAll("_", " ") }), el("dd", { text: typeof v === "number" ? numberCell(v) : String(v) }));
  }
  if (!diag.children.length) $("#diagnostics-title").hidden = true;
  if (a.fits) $("#fit-top").classList.remove("even");
  warningsList($("#fit-notes"), [...(a.notes || []), ...(a.warnings || [])]);
  const blob = new Blob([JSON.stringify(a, null, 2)], { type: "application/json" });
  $("#download").href = URL.createObjectURL(blob);
  $("#download").download = `${(fit.name || fit.id).replace(/[^\w.-]+/g, "_")}.json`;
  $("#fit-figure").src = `/v1/fits/${encodeURIComponent(id)}/plot.svg`;

  const elsewhere = { hparams: [`/?law=fit:${encodeURIComponent(id)}`, "Recommend a learning rate and a batch size with it"],
    sampling: [`/sampling?fit=${encodeURIComponent(id)}`, "Plan a sample budget with it"] }[fit.family];
  if (elsewhere) {
    $("#predict-title").textContent = "Ask this fit";
    $("#predict-form").replaceWith(el("p", {}, el("a", { href: elsewhere[0], id: "ask-link", text: elsewhere[1] })));
    return;
  }
  // predict: one input per column of the law (params, tokens for the loss laws), else name=value pairs
  const columns = a.law && a.law.columns ? Object.values(a.law.columns).filter((c) => c !== (a.law.target || "loss")) : [];
  const defaults = { params: "70B", tokens: "1.4T", flops: "1e23" };
  const box = $("#predict-fields");
  for (const c of columns) {
    box.append(el("div", { class: "field" }, el("label", { for: `predict-${c}`, text: c }),
      el("input", { id: `predict-${c}`, name: c, value: defaults[c] || "" })));
  }
  if (!columns.length) {
    box.append(el("div", { class: "field" }, el("label", { for: "predict-inputs", text: "Inputs (name=value)" }),
      el("input", { id: "predict-inputs", name: "inputs", placeholder: "params=70B, tokens=1.4T" })));
  }
  $("#predict-submit").addEventListener("click", async () => {
    const body = {};
    if (columns.length) for (const c of columns) body[c] = $(`#predict-${c}`).value.trim();
    else for (const [k, v] of parseOptions($("#predict-inputs").value)) body[k] = v;
    try {
      const r = await api(`/v1/fits/${encodeURIComponent(id)}/predict`, { method: "POST", json: body });
      say($("#predict-error"), "");
      const single = typeof r.prediction === "number" || (r.prediction && r.prediction.$float);
      const bounded = Number.isFinite(num(r.lower)) && Number.isFinite(num(r.upper));
      const shown = single ? (bounded ? { prediction: r.prediction, lower: r.lower, upper: r.upper,
        interval: r.interval } : { prediction: r.prediction }) : r;
      $("#predict-out").replaceChildren(answerTable(shown));
      if (single && !bounded) $("#predict-out").append(el("small", { text: "no confidence interval: the fit has no bootstrap" }));
      warningsList($("#predict-warnings"), r.warnings);
    } catch (err) {
      say($("#predict-error"), err.message);
    }
  });
  if (fit.family === "loss" && columns.includes("params")) {
    $("#optimal-card").hidden = false;
    $("#optimal-submit").addEventListener("click", async () => {
      try {
        const r = await api(`/v1/fits/${encodeURIComponent(id)}/optimal`, { method: "POST",
          json: { flops: $("#flops").value.trim() } });
        say($("#flops-error"), "");
        const t = el("table", { class: "small" });
        const row = (label, v, lo, hi, f) => t.append(el("tr", {}, el("th", { text: label }),
          el("td", { class: "num", text: f(v) }), el("td", { class: "interval", text: interval(lo, hi, f) })));
        row("parameters N", r.params, r.params_lower, r.params_upper, (x) => `${si(x)}`);
        row("tokens D", r.tokens, r.tokens_lower, r.tokens_upper, (x) => `${si(x)}`);
        row("loss (nats/token)", r.loss, r.loss_lower, r.loss_upper, (x) => sig3(num(x)));
        row("tokens per parameter", r.tokens_per_param, null, null, (x) => sig3(num(x)));
        $("#optimal-out").replaceChildren(t);
        warningsList($("#optimal-warnings"), r.warnings);
      } catch (err) {
        say($("#flops-error"), err.message);
      }
    });
  }
}

// ---- the sample-budget planner -------------------------------------------------------------------

function initPlanner() {
  const fitSelect = $("#sampling-fit"), error = $("#plan-error");
  let asked = 0;

  async function loadFits() {
    try {
      const listing = await api("/v1/fits?family=sampling&limit=200&artifact=false");
      fitSelect.replaceChildren(...listing.fits.map((f) => el("option", { value: f.id,
        text: `${f.name} (${when(f.created)})` })));
      if (!listing.fits.length) {
        fitSelect.append(el("option", { value: "", text: "no sampling fit yet: fit one on the Fits page" }));
      }
    } catch (err) {
      say(error, err.message);
    }
  }

  async function plan() {
    const mine = ++asked;
    if (!fitSelect.value) return;
    const body = { target: $("#target").value.trim() };
    if ($("#cost-per-sample").value.trim()) body.cost_per_sample = $("#cost-per-sample").value.trim();
    if ($("#problems").value.trim()) body.problems = $("#problems").value.trim();
    try {
      const r = await api(`/v1/fits/${encodeURIComponent(fitSelect.value)}/plan`, { method: "POST", json: body });
      if (mine !== asked) return;
      for (const id of ["#target-error", "#cost-error", "#problems-error"]) say($(id), "");
      say(error, "");
      const level = `${Math.round(100 * (num(r.level) || 0.95))}%`;
      const head = el("tr", {}, ...["model", "samples per problem k", `${level} interval of k`, "coverage at k",
        "cost per problem", `${level} interval`, "problems", "total cost"].map((t) => el("th", { text: t })));
      const rows = (r.models || []).map((m) => el("tr", { "data-model": m.model },
        el("td", { text: m.model }),
        el("td", { class: "num samples", text: Number.isFinite(num(m.samples)) ? num(m.samples).toLocaleString("en") : "–" }),
        el("td", { text: interval(m.k_lower, m.k_upper, (x) => Math.ceil(num(x)).toLocaleString("en")) || "–" }),
        el("td", { class: "num", text: sig3(num(m.coverage)) }),
        el("td", { class: "num", text: money(m.cost_per_problem) }),
        el("td", { text: interval(m.cost_per_problem_lower, m.cost_per_problem_upper, money) || "–" }),
        el("td", { class: "num", text: String(num(m.problems)) }),
        el("td", { class: "num", text: money(m.total_cost) })));
      $("#plan-table").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
      warningsList($("#plan-warnings"), [...(r.warnings || []), ...(r.models || []).flatMap((m) => m.warnings || [])]);
    } catch (err) {
      if (mine !== asked) return;
      const field = (err.body && err.body.field) || "";
      const target = { target: "#target-error", cost_per_sample: "#cost-error", problems: "#problems-error" }[field];
      for (const id of ["#target-error", "#cost-error", "#problems-error"]) say($(id), "");
      say(target ? $(target) : error, err.message);
    }
  }

  const later = debounce(plan, 250);
  for (const id of ["#target", "#cost-per-sample", "#problems"]) $(id).addEventListener("input", later);
  fitSelect.addEventListener("change", plan);
  const wanted = new URLSearchParams(location.search).get("fit");
  loadFits().then(() => {
    if (wanted && [...fitSelect.options].some((o) => o.value === wanted)) fitSelect.value = wanted;
    plan();
  });
}

// ---- pages ---------------------------------------------------------------------------------------

const PAGES = { hparams: initCalculator, fits: () => ($("#fit-page") ? initFitPage() : initExplorer()),
  sampling: initPlanner };
window.scalelaw = { PAGES, api, say, num, si, sci, sig3, el, logPanel, warningsList, interval, $ };
function initToken() {
  const input = $("#token");
  if (!input) return;
  input.value = localStorage.getItem("scalelaw-token") || "";
  input.addEventListener("change", () => {
    if (input.value.trim()) localStorage.setItem("scalelaw-token", input.value.trim());
    else localStorage.removeItem("scalelaw-token");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initToken();
  const init = PAGES[document.body.dataset.page];
  if (init) init();
});
