"""The live view's one page: HTML, CSS and JavaScript in a string, no build step.

The page opens ``/events`` with ``EventSource`` (which reconnects by itself
when the server drops a slow viewer) and redraws on each update.  Every
name it shows -- a room, a nickname, a descriptor's label -- was chosen by a
user, so it is written with ``textContent``, never parsed as HTML.
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>selectchat live</title>
<style>
  body { margin: 0; font: 16px/1.35 system-ui, sans-serif; background: #111418; color: #e8e8e8; }
  header { display: flex; align-items: baseline; gap: 1.5em; padding: .6em 1em; background: #1c2128; }
  header h1 { font-size: 1.4em; margin: 0; }
  #status { color: #f0b35a; } #status.live { color: #6fd08c; }
  .stats { display: flex; gap: 2em; padding: .5em 1em; }
  .stat b { display: block; font-size: 2em; font-variant-numeric: tabular-nums; }
  .stat span { color: #9aa4b0; font-size: .85em; }
  main { display: grid; grid-template-columns: 1fr 2fr 1.3fr; gap: 1em; padding: 0 1em 1em; }
  section { background: #1a1f26; border-radius: 6px; padding: .6em .8em; min-width: 0; }
  h2 { font-size: 1em; color: #9aa4b0; margin: .1em 0 .5em; text-transform: uppercase; letter-spacing: .05em; }
  .room { margin-bottom: .7em; } .room .name { font-weight: bold; font-size: 1.15em; }
  .room .count { color: #9aa4b0; margin-left: .5em; }
  .member { display: inline-block; background: #27303b; border-radius: 3px; padding: 0 .4em; margin: .15em .2em 0 0; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  td, th { padding: .1em .4em; text-align: right; white-space: nowrap; }
  td:nth-child(2), th:nth-child(2) { text-align: left; overflow: hidden; text-overflow: ellipsis; max-width: 10em; }
  th { color: #9aa4b0; font-weight: normal; }
  canvas { width: 100%; height: 340px; display: block; }
  .calls, .events { font: 13px/1.4 ui-monospace, monospace; }
  .events div, .calls div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .events .t, .calls .t { color: #6b7684; }
  .note { color: #9aa4b0; font-size: .85em; }
</style>
</head>
<body>
<header><h1>selectchat live</h1>
  <span>one <code>select()</code> loop serves the chat <em>and</em> this page</span>
  <span id="status">connecting&hellip;</span></header>
<div class="stats">
  <div class="stat"><b id="pps">&ndash;</b><span>passes per second</span></div>
  <div class="stat"><b id="busy">&ndash;</b><span>busy: time outside select()</span></div>
  <div class="stat"><b id="clients">&ndash;</b><span>chat clients</span></div>
  <div class="stat"><b id="watched">&ndash;</b><span>descriptors watched</span></div>
  <div class="stat"><b id="passes">&ndash;</b><span>passes so far</span></div>
</div>
<main>
  <section><h2>Rooms</h2><div id="rooms"></div></section>
  <section><h2>Timeline: one row per descriptor, newest on the right</h2>
    <canvas id="timeline"></canvas>
    <p class="note">Blue: bytes received. Orange: bytes sent. Top row: how busy the loop was.</p>
    <h2>Last select() calls</h2><div class="calls" id="calls"></div></section>
  <section><h2>Busiest descriptors (last 2 s)</h2>
    <table><thead><tr><th>fd</th><th>who</th><th>ready r/w</th><th>in</th><th>out</th></tr></thead>
    <tbody id="fds"></tbody></table>
    <h2 style="margin-top:1em">What happened</h2><div class="events" id="events"></div>
    <p class="note" id="textnote"></p></section>
</main>
<script>
"use strict";
const HISTORY = 120;                 // updates kept for the timeline (30 s at 4 a second)
const history = [];
const shownEvents = [];
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {         // user-chosen names go in as text, never as HTML
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function bytes(n) { return n >= 1e6 ? (n / 1e6).toFixed(1) + " MB" : n >= 1e3 ? (n / 1e3).toFixed(1) + " kB" : n + " B"; }

function showRooms(rooms) {
  const box = $("rooms");
  box.replaceChildren();
  if (!rooms.length) box.append(el("p", "note", "No rooms yet."));
  for (const room of rooms) {
    const div = el("div", "room");
    div.dataset.room = room.name;
    div.append(el("span", "name", room.name + (room.private ? " \\u{1F512}" : "")));
    div.append(el("span", "count", room.count + (room.limit ? "/" + room.limit : "")));
    if (room.topic) div.append(el("div", "note", room.topic));
    const members = el("div");
    for (const nick of room.members) members.append(el("span", "member", nick));
    if (room.count > room.members.length) members.append(el("span", "note", " and " + (room.count - room.members.length) + " more"));
    div.append(members);
    box.append(div);
  }
}

function showDescriptors() {          // summed over the last 2 seconds: one update is too short to see
  const sums = new Map();
  for (const u of history.slice(-8)) for (const d of u.descriptors) {
    const s = sums.get(d.fd) || {fd: d.fd, ready_read: 0, ready_write: 0, bytes_in: 0, bytes_out: 0};
    s.label = d.label; s.ready_read += d.ready_read; s.ready_write += d.ready_write;
    s.bytes_in += d.bytes_in; s.bytes_out += d.bytes_out;
    sums.set(d.fd, s);
  }
  const activity = (d) => d.bytes_in + d.bytes_out + d.ready_read + d.ready_write;
  const body = $("fds");
  body.replaceChildren();
  for (const d of [...sums.values()].sort((a, b) => activity(b) - activity(a)).slice(0, 10)) {
    const row = el("tr");
    for (const cell of [d.fd, d.label, d.ready_read + "/" + d.ready_write, bytes(d.bytes_in), bytes(d.bytes_out)])
      row.append(el("td", "", String(cell)));
    body.append(row);
  }
}

function showCalls(calls) {
  const box = $("calls");
  box.replaceChildren();
  for (const c of calls.slice().reverse()) {
    const ready = "[" + c.ready_read.join(",") + "], [" + c.ready_write.join(",") + "]";
    const text = "#" + c.pass + " select(" + c.read + " fds, " + c.write + " fds, timeout " +
      (c.timeout === null ? "none" : c.timeout.toFixed(3)) + ") blocked " + c.blocked_ms.toFixed(1) + " ms \\u2192 " + ready;
    box.append(el("div", "", text));
  }
}

function showEvents(update) {
  for (const e of update.events) shownEvents.push(e);
  if (update.events_dropped) shownEvents.push({t: update.t, text: "\\u2026 and " + update.events_dropped + " more"});
  shownEvents.splice(0, Math.max(0, shownEvents.length - 30));
  const box = $("events");
  box.replaceChildren();
  for (const e of shownEvents.slice().reverse()) {
    const line = el("div");
    line.append(el("span", "t", e.t.toFixed(2) + " "), document.createTextNode(e.text));
    box.append(line);
  }
  $("textnote").textContent = update.text_shown ? "Message text is shown (--live-text)." :
    "Message text is not shown (the server was not started with --live-text).";
}

function drawTimeline() {
  const canvas = $("timeline");
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width; canvas.height = height;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  const totals = new Map();            // fd -> [label, activity over the history]
  for (const u of history) for (const d of u.descriptors) {
    const seen = totals.get(d.fd) || [d.label, 0];
    totals.set(d.fd, [d.label, seen[1] + d.bytes_in + d.bytes_out + d.ready_read + d.ready_write]);
  }
  const rows = [...totals.entries()].sort((a, b) => b[1][1] - a[1][1]).slice(0, 10).map((e) => e[0]).sort((a, b) => a - b);
  const labelWidth = 150, rowHeight = Math.min(30, height / (rows.length + 1));
  const cell = (width - labelWidth) / HISTORY;
  g.font = "13px system-ui"; g.textBaseline = "middle";
  g.fillStyle = "#9aa4b0"; g.fillText("loop busy", 4, rowHeight / 2);
  rows.forEach((fd, i) => g.fillText(fd + " " + totals.get(fd)[0], 4, (i + 1.5) * rowHeight, labelWidth - 8));
  history.forEach((u, col) => {
    const x = labelWidth + (HISTORY - history.length + col) * cell;
    g.fillStyle = "rgba(111,208,140," + Math.min(1, 0.1 + u.busy * 3) + ")";
    g.fillRect(x, 2, Math.max(1, cell - 1), rowHeight - 4);
    for (const d of u.descriptors) {
      const i = rows.indexOf(d.fd);
      if (i < 0) continue;
      const y = (i + 1) * rowHeight;
      const shade = (n) => Math.min(1, 0.25 + Math.log10(1 + n) / 5);   // bytes on a log scale
      const w = Math.max(1, cell - 1), h = rowHeight / 2 - 2;
      if (d.bytes_in || d.ready_read) {
        g.fillStyle = "rgba(90,160,240," + shade(d.bytes_in) + ")";
        g.fillRect(x, y + 2, w, h);
      }
      if (d.bytes_out || d.ready_write) {
        g.fillStyle = "rgba(240,160,80," + shade(d.bytes_out) + ")";
        g.fillRect(x, y + rowHeight / 2, w, h);
      }
    }
  });
}

function render(update) {
  $("pps").textContent = Math.round(update.passes_per_s);
  $("busy").textContent = (update.busy * 100).toFixed(1) + " %";
  $("clients").textContent = update.clients;
  $("watched").textContent = update.watched;
  $("passes").textContent = update.passes;
  history.push(update);
  if (history.length > HISTORY) history.shift();
  showRooms(update.rooms);
  showDescriptors();
  showCalls(update.recent_passes);
  showEvents(update);
  drawTimeline();
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
}

const source = new EventSource("events");
source.onopen = () => { $("status").textContent = "live"; $("status").className = "live"; };
source.onerror = () => { $("status").textContent = "reconnecting\\u2026"; $("status").className = ""; };
source.onmessage = (message) => render(JSON.parse(message.data));
</script>
</body>
</html>
"""
