// The tracker page: loads the items from /tracker/api/items, then keeps them current from
// /tracker/api/events (one "item" event per changed item) without reloading.
"use strict";

const api = "/tracker/api";
const limit = 200;
const tables = { in_flight: "inflight", completed: "completed" };
let filters = { domain: "", queue: "", q: "" };
let source = null;
let countersTimer = null;

function $(id) { return document.getElementById(id); }

function readFilters() {
  const p = new URLSearchParams(location.search);
  filters = { domain: p.get("domain") || "", queue: p.get("queue") || "", q: p.get("q") || "" };
  $("f-q").value = filters.q;
}

function query(state) {
  const p = new URLSearchParams({ state: state, limit: String(limit) });
  for (const k of ["domain", "queue", "q"]) if (filters[k]) p.set(k, filters[k]);
  return p.toString();
}

function matches(it) {
  const steps = it.steps || [];
  if (filters.domain && it.domain !== filters.domain && !steps.some(s => s.domain === filters.domain)) return false;
  if (filters.queue && it.where !== filters.queue && !steps.some(s => s.where === filters.queue)) return false;
  if (filters.q && it.correlation_id !== filters.q &&
      !(it.ids || []).some(id => id === filters.q || id.endsWith("." + filters.q))) return false;
  return true;
}

function duration(ms) {
  if (ms < 1000) return ms + " ms";
  const s = ms / 1000;
  if (s < 60) return s.toFixed(1) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
}

function ageOf(it) {
  if (it.status === "completed") return Date.parse(it.completed) - Date.parse(it.started);
  return Math.max(0, Date.now() - Date.parse(it.started));
}

function cell(row, label, text, cls) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

// grantOf is what a lock's grant adds to where it is: its holder, its token once granted.
function grantOf(it) {
  if (it.kind !== "lock") return "";
  return " · " + it.holder + (it.token ? " (token " + it.token + ")" : "");
}

function render(it) {
  const tr = document.createElement("tr");
  tr.dataset.id = it.correlation_id;
  tr.dataset.status = it.status;
  tr.dataset.state = it.state;
  tr.dataset.domain = it.domain;
  tr.dataset.where = it.where;
  tr.dataset.position = it.position;
  tr.dataset.started = it.started;
  if (it.completed) tr.dataset.completed = it.completed;
  const id = document.createElement("th");
  id.scope = "row";
  id.dataset.label = "Item";
  const code = document.createElement("code");
  code.textContent = it.correlation_id;
  id.appendChild(code);
  const kind = document.createElement("span");
  kind.className = "kind";
  kind.textContent = it.kind;
  id.append(" ", kind);
  tr.appendChild(id);
  cell(tr, it.status === "completed" ? "Ended in" : "Where", it.domain + " · " + it.where + grantOf(it));
  cell(tr, it.status === "completed" ? "Outcome" : "State", it.state, "state state-" + it.state);
  cell(tr, "Retries", String(it.retries));
  cell(tr, it.status === "completed" ? "Took" : "Age", duration(ageOf(it)), "age");
  const trail = (it.steps || []).map(s => s.where + " " + s.event);
  const more = it.steps_dropped ? "… " : "";
  cell(tr, "Went through", more + trail.join(" → "), "trail");
  return tr;
}

// upsert puts the item's row in the table of its status, at its place (newest first),
// removing it from the other table.
function upsert(it) {
  document.querySelectorAll("tr[data-id]").forEach(tr => {
    if (tr.dataset.id === it.correlation_id) tr.remove();
  });
  if (!matches(it)) { refreshEmpty(); return; }
  const body = $(tables[it.status]).tBodies[0];
  const row = render(it);
  const newer = (tr) => it.status === "completed"
    ? Date.parse(tr.dataset.completed) > Date.parse(it.completed)
    : Number(tr.dataset.position) > it.position;
  let before = null;
  for (const tr of body.rows) { if (!newer(tr)) { before = tr; break; } }
  body.insertBefore(row, before);
  while (body.rows.length > limit) body.deleteRow(body.rows.length - 1);
  refreshEmpty();
}

function refreshEmpty() {
  for (const id of Object.values(tables)) {
    const n = $(id).tBodies[0].rows.length;
    $(id + "-empty").hidden = n > 0;
    $(id).hidden = n === 0;
    $("n-" + id).textContent = "(" + n + (n >= limit ? "+" : "") + ")";
  }
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error((body.error && body.error.message) || r.statusText);
  return body;
}

async function loadItems() {
  for (const [status, id] of Object.entries(tables)) {
    const page = await getJSON(api + "/items?" + query(status));
    const body = $(id).tBodies[0];
    body.replaceChildren(...page.items.map(render));
  }
  refreshEmpty();
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

async function loadCounters() {
  const c = await getJSON(api + "/counters");
  const domains = $("domains").tBodies[0], queues = $("queues").tBodies[0];
  domains.replaceChildren();
  queues.replaceChildren();
  for (const d of c.domains) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.scope = "row"; th.dataset.label = "Domain"; th.textContent = d.domain; tr.appendChild(th);
    cell(tr, "Events", String(d.events)); cell(tr, "In flight", String(d.in_flight));
    cell(tr, "Completed", String(d.completed)); cell(tr, "Parked", String(d.parked));
    domains.appendChild(tr);
  }
  for (const q of c.queues) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.scope = "row"; th.dataset.label = "Queue"; th.textContent = q.queue; tr.appendChild(th);
    cell(tr, "Domain", q.domain); cell(tr, "Count", String(Math.max(0, q.count)));
    cell(tr, "Enqueued", String(q.enqueued)); cell(tr, "Committed", String(q.committed));
    cell(tr, "Rolled back", String(q.rolled_back)); cell(tr, "To error", String(q.to_error));
    queues.appendChild(tr);
  }
  fillSelect($("f-domain"), "all domains", c.domains.map(d => d.domain), filters.domain);
  fillSelect($("f-queue"), "all queues", c.queues.map(q => q.queue), filters.queue);
}

function fillSelect(select, all, names, chosen) {
  if (document.activeElement === select) return;
  select.replaceChildren();
  option(select, "", all);
  if (chosen && !names.includes(chosen)) names = [chosen].concat(names);
  for (const n of names) option(select, n, n);
  select.value = chosen;
}

function countersSoon() {
  if (countersTimer) return;
  countersTimer = setTimeout(() => { countersTimer = null; loadCounters().catch(() => {}); }, 1000);
}

function setStatus(state, text) {
  const s = $("status");
  s.dataset.live = state;
  s.textContent = text;
}

function connect() {
  if (source) source.close();
  source = new EventSource(api + "/events");
  source.addEventListener("open", async () => {
    try {
      await loadItems(); // after the stream is open: nothing between the two is missed
      await loadCounters();
      setStatus("live", "Live: updates appear as they happen.");
    } catch (e) {
      setStatus("error", "Could not load the items: " + e.message);
    }
  });
  source.addEventListener("item", (ev) => {
    upsert(JSON.parse(ev.data));
    countersSoon();
  });
  source.addEventListener("error", () => {
    setStatus("reconnecting", "Disconnected; reconnecting…");
    // A refused stream (503 while the tracker reads the history) is not retried by the
    // browser: open a new one.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  });
}

function applyFilters(ev) {
  ev.preventDefault();
  const p = new URLSearchParams();
  const form = new FormData($("filters"));
  for (const k of ["domain", "queue", "q"]) {
    const v = String(form.get(k) || "").trim();
    if (v) p.set(k, v);
  }
  history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
  readFilters();
  loadItems().then(loadCounters).catch(e => setStatus("error", e.message));
}

document.addEventListener("DOMContentLoaded", () => {
  readFilters();
  $("filters").addEventListener("submit", applyFilters);
  $("filters").addEventListener("reset", () => setTimeout(() => $("filters").requestSubmit(), 0));
  $("f-domain").addEventListener("change", () => $("filters").requestSubmit());
  $("f-queue").addEventListener("change", () => $("filters").requestSubmit());
  setInterval(() => { // ages move on
    document.querySelectorAll("#inflight tr[data-id] td.age").forEach(td => {
      const tr = td.parentElement;
      td.textContent = duration(Math.max(0, Date.now() - Date.parse(tr.dataset.started)));
    });
  }, 1000);
  connect();
});
