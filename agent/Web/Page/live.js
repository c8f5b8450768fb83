// The live page's only script: renders the agent's snapshots from /events (server-sent events).
// Everything from the agent is inserted as text, never as markup: frame ids come from cameras.
"use strict";

function text(id, value) { document.getElementById(id).textContent = value; }

function element(tag, className, content) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (content !== undefined) e.textContent = content;
  return e;
}

function number(v, digits) { return v === null || v === undefined ? "–" : Number(v).toFixed(digits); }

function renderModels(models) {
  const body = document.querySelector("#models tbody");
  body.replaceChildren(...models.map(m => {
    const row = element("tr");
    row.append(element("td", "", m.product), element("td", "id", m.parentId ? `${m.id} (extended from ${m.parentId})` : m.id), element("td", "", number(m.threshold, 3)),
               element("td", "", m.signedBy ? `key ${m.signedBy}, release ${m.release}` : "unsigned"),
               element("td", "", m.device), element("td", "", new Date(m.createdAt).toLocaleString()));
    return row;
  }));
}

function renderDevices(devices) {
  document.getElementById("devicesSection").hidden = devices.length === 0;
  document.querySelector("#devices tbody").replaceChildren(...devices.map(d => {
    const row = element("tr");
    row.append(element("td", "", d.name), element("td", d.problem ? "bad" : "", d.problem || "delivering"),
               element("td", "", d.counters.frames ?? "–"), element("td", "", d.counters.incomplete ?? "–"),
               element("td", "", d.counters.reconnects ?? "–"));
    return row;
  }));
}

let shownFrames = null;
let lastFrames = [];
let show = "all"; // the filter: all, defect, error or ok
const cards = new Map(); // frame number -> its card: a card (and its loaded image) is made once, never again

function card(f) {
  if (cards.has(f.number)) return cards.get(f.number);
  const figure = element("figure", "frame " + f.verdict);
  figure.dataset.verdict = f.verdict;
  figure.title = `${f.frameId} from ${f.source}, ${new Date(f.scoredAt).toLocaleTimeString()}, ${number(f.latencyMs, 1)} ms`;
  if (f.image) {
    const img = element("img");
    img.alt = "heat map of " + f.frameId;
    img.width = 224; img.height = 224;
    img.decoding = "async";
    img.src = f.image;
    figure.append(img);
  } else {
    figure.append(element("div", "noimage", f.error || "no image"));
  }
  const caption = element("div", "caption");
  const name = element("span", "name", f.frameId);
  name.title = f.frameId; // the whole name on hover, however long
  caption.append(element("span", "verdict", f.verdict), " ",
                 f.score === null ? "" : `score ${number(f.score, 2)} / ${number(f.threshold, 2)}`, name);
  figure.append(caption);
  cards.set(f.number, figure);
  return figure;
}

function renderFrames(frames) {
  lastFrames = frames;
  const shown = frames.filter(f => show === "all" || f.verdict === show);
  const key = show + ":" + shown.map(f => f.number).join(",");
  if (key === shownFrames) return; // the same frames: keep the images as they are
  shownFrames = key;
  const box = document.getElementById("frames");
  const live = new Set(frames.map(f => f.number));
  for (const n of [...cards.keys()]) if (!live.has(n)) cards.delete(n);
  if (shown.length === 0) { box.replaceChildren(element("p", "muted", frames.length === 0 ? "no frames scored yet" : "none of these among the recent frames")); return; }
  box.replaceChildren(...shown.map(card));
}

function filterBy(button) {
  show = button.dataset.show;
  for (const b of document.querySelectorAll("#filter button")) b.classList.toggle("on", b === button);
  renderFrames(lastFrames);
}

function render(s) {
  text("device", s.deviceId + " · agent " + s.version);
  const health = document.getElementById("health");
  health.textContent = s.health === "ok" ? "healthy" : s.health;
  health.className = "badge " + (s.health === "ok" ? "ok" : s.health === "degraded" ? "warn" : "bad");
  const problems = document.getElementById("problems");
  problems.hidden = s.problems.length === 0;
  problems.textContent = s.problems.join("; ");
  text("updated", "updated " + new Date(s.at).toLocaleTimeString());
  const c = s.counters;
  text("framesIn", c.framesIn); text("scored", c.scored); text("defects", c.defects);
  text("errors", c.errors); text("dropped", c.dropped);
  text("latency", s.latencyMs ? `${number(s.latencyMs.p50, 0)} / ${number(s.latencyMs.p95, 0)}` : "–");
  text("latencyLabel", s.latencyMs ? `latency p50 / p95 (ms), last ${s.latencyMs.windowMinutes} min` : "latency p50 / p95 (ms)");
  text("queue", s.queueDepth);
  const waited = s.outbox.oldestAgeSeconds == null ? "" : " (oldest " + Math.round(s.outbox.oldestAgeSeconds) + " s)";
  text("outbox", (s.outbox.writable ? s.outbox.pending : s.outbox.pending + " (disk!)") + waited);
  text("broker", s.broker.address === null ? "none" : s.broker.connected ? "connected" : "offline");
  text("brokerAddress", s.broker.address === null ? "broker" : "broker " + s.broker.address);
  renderModels(s.models);
  renderDevices(s.devices);
  renderFrames(s.frames);
}

function connect() {
  const events = new EventSource("events");
  events.onmessage = m => render(JSON.parse(m.data));
  events.onerror = () => {
    const health = document.getElementById("health");
    health.textContent = "agent unreachable, retrying";
    health.className = "badge bad";
  };
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("#filter button")) b.addEventListener("click", () => filterBy(b));
  connect();
});
