// The Stratus dashboard: plots /v1/dashboard every 2 s and follows /v1/logs with long polls.
// Everything that comes from functions (names, output, errors) is put in the page as text, never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const RECENT = 60;
const state = { token: sessionStorage.getItem("stratus-token") || "", after: null, records: [], selected: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

async function api(path) {
  const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 401) {
    document.getElementById("token").style.display = "block";
    throw new Error("token needed");
  }
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

// Figures

function ms(value) {
  if (value === null || value === undefined) return "–";
  if (value < 1) return value.toFixed(2) + " ms";
  if (value < 1000) return (value < 10 ? value.toFixed(1) : Math.round(value)) + " ms";
  return (value / 1000).toFixed(value < 10000 ? 2 : 1) + " s";
}

function rate(count, seconds) {
  const perSecond = count / seconds;
  return perSecond >= 10 ? Math.round(perSecond) + "/s" : perSecond.toFixed(perSecond >= 1 ? 1 : 2) + "/s";
}

function clock(iso) {
  const date = new Date(iso);
  return isNaN(date) ? "" : date.toLocaleTimeString([], { hour12: false });
}

// Plots: one value per 10-second bucket, oldest first; null is "no data" (a gap, not a zero).

function plot(series, options) {
  const width = 360, height = 64, top = 4, bottom = 2;
  const values = series.filter((v) => v !== null && v !== undefined);
  const max = Math.max(options.floor || 0, ...values, 0) || 1;
  // Lines share the time axis: one value per bucket (`series` may hold several lines, for the scale only).
  const length = options.lines ? options.lines[0].values.length : series.length;
  const step = width / Math.max(1, length);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const root = svg("svg", { class: "plot " + (options.name || ""), viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "none", role: "img", "aria-label": options.label, "data-max": max });
  const title = svg("title");
  title.textContent = options.label + " over the last 15 minutes, peak " + options.format(max);
  root.append(title);
  if (options.bars) {
    series.forEach((v, i) => {
      if (!v) return;
      const bar = svg("rect", { x: i * step + 0.5, y: y(v), width: Math.max(1, step - 1), height: height - bottom - y(v),
        fill: options.color });
      const tip = svg("title");
      tip.textContent = options.format(v);
      bar.append(tip);
      root.append(bar);
    });
  } else {
    // Each bucket is a level across its 10 seconds, joined to the next one; a bucket without data is a gap.
    for (const [index, line] of (options.lines || [{ values: series, color: options.color }]).entries()) {
      let d = "", open = false;
      line.values.forEach((v, i) => {
        if (v === null || v === undefined) { open = false; return; }
        d += (open ? "L" : "M") + (i * step).toFixed(1) + " " + y(v).toFixed(1) + "L" + ((i + 1) * step).toFixed(1) +
          " " + y(v).toFixed(1);
        open = true;
      });
      if (d) root.append(svg("path", { d, fill: "none", stroke: line.color, "stroke-width": index ? 1.5 : 2,
        "vector-effect": "non-scaling-stroke" }));
    }
  }
  return { node: root, peak: values.some((v) => v > 0) ? options.format(max) : "" };
}

function plotBox(label, now, made) {
  return el("div", { class: "plotbox" },
    el("div", { class: "label" }, el("span", {}, label), el("span", {}, now)),
    made.node,
    el("div", { class: "label axis" }, el("span", {}, "−15 min"), el("span", {}, made.peak ? "peak " + made.peak : ""),
      el("span", {}, "now")));
}

function latest(series) {
  // The current bucket, or the one before while the current one has nothing yet.
  for (const v of series.slice(-2).reverse()) if (v !== null && v !== undefined) return v;
  return null;
}

function lastMinute(series) {
  // The six buckets before the current one, which is still filling.
  return series.slice(-7, -1).reduce((sum, v) => sum + (v || 0), 0);
}

// Sections

function renderFunctions(data) {
  const root = document.getElementById("functions");
  if (!data.functions.length) return root.replaceChildren(el("p", { class: "empty" }, "No functions loaded."));
  const seconds = data.bucketSeconds;
  root.replaceChildren(...data.functions.map((f) => {
    const errorRate = f.invocations.map((n, i) => (n ? (100 * f.errors[i]) / n : null));
    const totalRate = f.total.invocations ? (100 * f.total.errors) / f.total.invocations : 0;
    const perSecond = f.invocations.map((n) => n / seconds);
    const nowRate = latest(errorRate);
    return el("div", { class: "card function", "data-function": f.name },
      el("div", { class: "title" },
        el("b", {}, f.name),
        el("span", { class: "meta" }, `${f.runtime} · rev ${f.revision}`),
        f.breaker !== "OFF" ? el("span", { class: "badge " + f.breaker }, f.breaker) : null,
        el("span", { class: "figures" }, "workers ",
          el("strong", {}, `${f.busy} busy · ${f.idle} idle` + (f.starting ? ` · ${f.starting} starting` : "")),
          f.waiting ? ` · ${f.waiting} waiting` : "")),
      el("div", { class: "totals" }, "15 min: ",
        el("strong", {}, f.total.invocations), " invocations · ",
        el("strong", { class: f.total.errors ? "error" : "" }, totalRate.toFixed(1) + "%"), " errors",
        f.total.refused ? ` · ${f.total.refused} throttled or rejected` : "",
        " · p50 ", el("strong", {}, ms(f.total.p50)), " · p99 ", el("strong", {}, ms(f.total.p99))),
      el("div", { class: "plots" },
        plotBox("calls/s", rate(lastMinute(f.invocations), 60),
          plot(perSecond, { name: "invocations", label: f.name + " invocations per second", bars: true,
            color: "var(--blue)", format: (v) => v.toFixed(v >= 10 ? 0 : 1) + "/s" })),
        plotBox("error rate", nowRate === null || nowRate === undefined ? "–" : nowRate.toFixed(0) + "%",
          plot(errorRate, { name: "errors", label: f.name + " error rate", color: "var(--red)", floor: 5,
            format: (v) => v.toFixed(0) + "%" })),
        plotBox("p50 / p99", `${ms(latest(f.p50))} / ${ms(latest(f.p99))}`,
          plot([...f.p50, ...f.p99], { name: "duration", label: f.name + " p50 and p99 duration",
            lines: [{ values: f.p99, color: "var(--violet)" }, { values: f.p50, color: "var(--blue)" }],
            format: ms })),
        plotBox("workers", `${f.busy + f.idle + f.starting} of ${f.max}`,
          plot(f.workers, { name: "workers", label: f.name + " workers", color: "var(--green)", floor: 1,
            format: (v) => String(Math.round(v)) }))));
  }));
}

function renderQueues(data) {
  const root = document.getElementById("queues");
  if (!data.queues.length) return root.replaceChildren(el("p", { class: "empty" }, "No queues."));
  root.replaceChildren(...data.queues.map((q) => el("div", { class: "card queue", "data-queue": q.name },
    el("div", { class: "title" },
      el("b", {}, q.name),
      el("span", { class: "meta" }, q.consumer ? "→ " + q.consumer : "no consumer"),
      el("span", { class: "figures" },
        el("strong", {}, q.visible), " visible · ", el("strong", {}, q.inFlight), " in flight",
        q.delayed ? ` · ${q.delayed} delayed` : "",
        q.deadLetterQueue ? ` · ${q.deadLettered ?? 0} in ${q.deadLetterQueue}` : "")),
    el("div", { class: "plots one" },
      plotBox("depth: visible / in flight", `${q.visible} / ${q.inFlight}`,
        plot([...q.visibleSeries, ...q.inFlightSeries], { name: "depth", label: q.name + " depth",
          lines: [{ values: q.visibleSeries, color: "var(--blue)" }, { values: q.inFlightSeries, color: "var(--amber)" }],
          format: (v) => String(Math.round(v)) }))))));
}

function renderBreakers(data) {
  const root = document.getElementById("breakers");
  const closed = data.closedBreakers
    ? `${data.closedBreakers} other breaker${data.closedBreakers === 1 ? "" : "s"} closed, without a transition in the last 15 minutes.`
    : "";
  if (!data.breakers.length) {
    return root.replaceChildren(el("p", { class: "empty" }, closed || "No function has a circuit breaker."));
  }
  root.replaceChildren(el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "Function"), el("th", {}, "State"), el("th", {}, "Next probe"),
      el("th", {}, "Transitions in the last 15 minutes"))),
    el("tbody", {}, ...data.breakers.map((b) => el("tr", { class: "breaker", "data-function": b.function },
      el("td", {}, b.function),
      el("td", {}, el("span", { class: "badge " + b.state }, b.state)),
      el("td", {}, b.nextProbe ? clock(b.nextProbe) : "–"),
      el("td", { class: "transitions" }, b.transitions.length
        ? b.transitions.map((t) => `${clock(t.time)} ${t.kind.replace("BREAKER_", "")}`).join(" → ")
        : "none"))))), closed ? el("p", { class: "empty" }, closed) : "");
}

function renderEvents(data) {
  const root = document.getElementById("events");
  if (!data.events.length) return root.replaceChildren(el("li", { class: "empty" }, "No host events yet."));
  root.replaceChildren(...data.events.map((e) => el("li", {}, el("time", {}, clock(e.time)),
    el("span", { class: "kind" }, e.kind), e.function + ": " + e.message)));
}

function renderSummary(data) {
  const invocations = data.functions.reduce((sum, f) => sum + lastMinute(f.invocations), 0);
  document.getElementById("summary").textContent =
    `${data.functions.length} functions · ${data.queues.length} queues · ${rate(invocations, 60)} over the last minute`;
  const live = document.getElementById("live");
  live.className = "live";
  live.textContent = "live · " + clock(data.now);
}

// Recent invocations, followed live with long polls of /v1/logs.

function renderInvocations() {
  const body = document.querySelector("#invocations tbody");
  if (!state.records.length) {
    return body.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No invocations yet.")));
  }
  body.replaceChildren(...state.records.slice().reverse().map((r) => el("tr",
    { class: "invocation" + (r.id === state.selected ? " selected" : ""), "data-id": r.id },
    el("td", {}, clock(r.start)),
    el("td", {}, r.function),
    el("td", {}, r.trigger + (r.source ? " " + r.source : "")),
    el("td", {}, el("span", { class: "badge " + r.status }, r.status)),
    el("td", { class: "num" }, ms(r.durationMs)),
    el("td", {}, r.initDurationMs !== undefined && r.initDurationMs !== null ? "cold" : "warm"),
    el("td", { class: "num" }, r.attempt))));
}

function describe(r) {
  return el("dl", {},
    el("dt", {}, "request id"), el("dd", {}, r.id),
    el("dt", {}, "function"), el("dd", {}, `${r.function} (rev ${r.revision || "?"})`),
    el("dt", {}, "trigger"), el("dd", {}, r.trigger + (r.source ? " " + r.source : "")),
    el("dt", {}, "started"), el("dd", {}, new Date(r.start).toLocaleString()),
    el("dt", {}, "status"), el("dd", {}, el("span", { class: "badge " + r.status }, r.status),
      r.errorType ? ` ${r.errorType}: ${r.errorMessage || ""}` : ""),
    el("dt", {}, "duration"), el("dd", {}, ms(r.durationMs) +
      (r.initDurationMs !== undefined && r.initDurationMs !== null ? ` (cold, init ${ms(r.initDurationMs)})` : " (warm)")),
    el("dt", {}, "memory"), el("dd", {}, `${r.maxMemoryUsedMB} of ${r.memorySizeMB} MB`));
}

function logLines(r) {
  return el("pre", { class: "log" }, r.output ? r.output : "(no output)");
}

async function showDetail(id) {
  state.selected = id;
  renderInvocations();
  const root = document.getElementById("detail");
  let record;
  try {
    // The list holds records without their output: read this one whole.
    record = (await api("/v1/logs?id=" + encodeURIComponent(id) + "&limit=1")).invocations[0];
  } catch (error) {
    return root.replaceChildren(el("p", { class: "empty" }, "The invocation could not be read: " + error.message));
  }
  if (state.selected !== id) return;
  if (!record) {
    return root.replaceChildren(el("p", { class: "empty" }, `No invocation ${id} in the log (it may have been pruned).`));
  }
  root.replaceChildren(el("h3", {}, `${record.function} · ${record.status}`), describe(record), logLines(record));
  if (!record.eventId) return;
  try {
    const chain = await api("/v1/logs?event=" + encodeURIComponent(record.eventId) + "&limit=100");
    if (state.selected !== id) return;
    const attempts = el("div", { class: "attempts" },
      el("h3", {}, `Async event ${record.eventId}: ${chain.invocations.length} attempt(s)`),
      ...chain.invocations.map((a) => el("div", { class: "attempt", "data-attempt": a.attempt },
        el("b", {}, `attempt ${a.attempt} · `), el("span", { class: "badge " + a.status }, a.status),
        ` ${clock(a.start)} · ${ms(a.durationMs)}` + (a.errorType ? ` · ${a.errorType}: ${a.errorMessage || ""}` : ""),
        logLines(a))));
    root.append(attempts);
  } catch (error) {
    root.append(el("p", { class: "empty" }, "Attempts could not be read: " + error.message));
  }
}

function selectFromHash() {
  const match = location.hash.match(/^#invocation=(.+)$/);
  if (!match) return;
  let id;
  try {
    id = decodeURIComponent(match[1]);
  } catch {
    id = match[1];
  }
  showDetail(id);
}

async function followLogs() {
  for (;;) {
    try {
      const path = state.after === null
        ? `/v1/logs?limit=${RECENT}&brief=true`
        : `/v1/logs?after=${state.after}&wait=20s&limit=200&brief=true`;
      const page = await api(path);
      for (const r of page.invocations) state.after = Math.max(state.after ?? 0, r.sequence);
      if (state.after === null) state.after = 0;
      if (page.invocations.length || !state.records.length) {
        state.records = state.records.concat(page.invocations).slice(-RECENT);
        renderInvocations();
        if (state.selected === null) selectFromHash();
      }
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function refresh() {
  try {
    const data = await api("/v1/dashboard");
    renderSummary(data);
    renderFunctions(data);
    renderQueues(data);
    renderBreakers(data);
    renderEvents(data);
  } catch (error) {
    const live = document.getElementById("live");
    live.className = "live stale";
    live.textContent = "disconnected: " + error.message;
  }
}

document.querySelector("#invocations tbody").addEventListener("click", (event) => {
  const row = event.target.closest("tr.invocation");
  if (row) location.hash = "invocation=" + encodeURIComponent(row.dataset.id);
});
window.addEventListener("hashchange", selectFromHash);
document.getElementById("token").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = document.getElementById("token-value").value;
  sessionStorage.setItem("stratus-token", state.token);
  document.getElementById("token").style.display = "none";
  refresh();
});

refresh();
followLogs();
setInterval(() => { if (!document.hidden) refresh(); }, 2000);
