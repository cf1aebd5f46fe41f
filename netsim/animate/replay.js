// netsim replay: plays back the frames a run followed. Everything it shows comes from the
// JSON in #netsim-data, written by netsim.animate from the run's results.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("netsim-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const EPS = 1e-15;
  const $ = (id) => document.getElementById(id);
  const W = D.window;

  // Events: one per hop, sorted by the arrival of the last bit (the "At device" moment).
  const events = D.events.map((e, i) => ({
    i, frame: e[0], from: e[1], to: e[2], t0: e[3], t1: e[4], t2: e[5], t3: e[6],
    bytes: e[7], path: e[8], fromDev: e[1].split(":")[0], toDev: e[2].split(":")[0],
  }));
  const maxHop = events.reduce((m, e) => Math.max(m, e.t3 - e.t0), 0);
  const nodes = new Map(D.nodes.map((n) => [n.name, n]));
  const state = {
    t: W.start, playing: false, speed: 1e-3, selected: null, view: null,
    protocols: new Set(D.protocols), conversation: "", colourBy: "protocol",
  };

  // ---------------------------------------------------------------- formatting helpers
  function fmtTime(t) { return t.toFixed(9) + " s"; }
  function fmtShort(s) {
    if (s >= 1) return s + " s";
    if (s >= 1e-3) return (s * 1e3) + " ms";
    return (s * 1e6) + " µs";
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  function colourOf(frame) {
    const f = D.frames[frame];
    if (!f) return "#777";
    if (state.colourBy === "traffic") return D.traffic_colors[f.traffic] || "#777";
    return D.protocol_colors[f.protocol] || "#777";
  }
  function visible(e) {
    const f = D.frames[e.frame];
    if (!f) return false;
    return state.protocols.has(f.protocol) && (!state.conversation || f.conversation === state.conversation);
  }

  // ---------------------------------------------------------------- the drawing
  const top = $("topology");
  top.setAttribute("viewBox", `0 0 ${D.size.width} ${D.size.height}`);
  function zoom(fit) {
    // Fit: the whole network in the panel's width; otherwise one pixel per unit, scrolled.
    top.setAttribute("width", fit ? "100%" : D.size.width);
    if (fit) top.removeAttribute("height"); else top.setAttribute("height", D.size.height);
  }
  zoom(true);
  $("fit").addEventListener("change", (ev) => zoom(ev.target.checked));
  // Frames go under the device boxes: a frame slides into a switch and out again.
  const gLinks = svg("g"), gPorts = svg("g"), gNodes = svg("g"), gFrames = svg("g");
  top.append(gLinks, gFrames, gNodes, gPorts);
  const rowCount = {};
  for (const n of D.nodes) rowCount[n.y] = (rowCount[n.y] || 0) + 1;

  function portPoint(node, other) {
    const dx = other.x - node.x, dy = other.y - node.y;
    const len = Math.hypot(dx, dy) || 1;
    const off = node.fabric ? 22 : 10;
    return [node.x + dx / len * off, node.y + dy / len * off];
  }
  for (const l of D.links) {
    const a = nodes.get(l.a), b = nodes.get(l.b);
    gLinks.append(svg("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: "link" + (l.duplex === "half" ? " half" : "") }));
    for (const [n, p, o] of [[a, l.pa, b], [b, l.pb, a]]) {
      const [x, y] = portPoint(n, o);
      const c = svg("circle", { cx: x, cy: y, r: n.fabric ? 4 : 3, class: "port", "data-port": `${n.name}:${p}` });
      const title = svg("title"); title.textContent = `${n.name} ${p}`; c.append(title);
      c.addEventListener("click", (ev) => { ev.stopPropagation(); showPort(`${n.name}:${p}`); });
      gPorts.append(c);
    }
  }
  for (const n of D.nodes) {
    const g = svg("g", { class: `node ${n.kind}`, "data-name": n.name, transform: `translate(${n.x},${n.y})` });
    const crowded = rowCount[n.y] > 24;
    if (n.fabric) {
      const w = Math.max(54, n.name.length * 7.5 + 12, n.model.length * 5.6 + 10);
      const h = n.model ? 32 : 24;
      g.append(svg("rect", { x: -w / 2, y: -h / 2, width: w, height: h, rx: 5 }));
      const t = svg("text", { "text-anchor": "middle", y: n.model ? -1 : 4, "font-size": 12, "font-weight": 600 });
      t.textContent = n.name; g.append(t);
      if (n.model) { const m = svg("text", { "text-anchor": "middle", y: 11, "font-size": 9, fill: "#555" }); m.textContent = n.model; g.append(m); }
    } else {
      g.append(svg("circle", { r: crowded ? 5 : 7 }));
      const t = crowded
        ? svg("text", { "font-size": 10, transform: "translate(2,10) rotate(60)" })
        : svg("text", { "text-anchor": "middle", y: 21, "font-size": 11 });
      t.textContent = n.name; g.append(t);
    }
    const title = svg("title"); title.textContent = n.model ? `${n.name} (${n.model})` : n.name; g.append(title);
    g.addEventListener("click", () => showDevice(n.name));
    gNodes.append(g);
  }

  function pointAlong(path, frac) {
    const pts = path.map((name) => nodes.get(name)).filter(Boolean);
    if (pts.length < 2) return pts[0] ? [pts[0].x, pts[0].y] : [0, 0];
    const seg = [];
    let total = 0;
    for (let k = 1; k < pts.length; k++) {
      const d = Math.hypot(pts[k].x - pts[k - 1].x, pts[k].y - pts[k - 1].y);
      seg.push(d); total += d;
    }
    let want = Math.min(Math.max(frac, 0), 1) * total;
    for (let k = 0; k < seg.length; k++) {
      if (want <= seg[k] || k === seg.length - 1) {
        const f = seg[k] ? want / seg[k] : 0;
        return [pts[k].x + (pts[k + 1].x - pts[k].x) * f, pts[k].y + (pts[k + 1].y - pts[k].y) * f];
      }
      want -= seg[k];
    }
    return [pts[0].x, pts[0].y];
  }

  // The first event whose last bit arrives at or after t (events are sorted by t3).
  function firstArrivingAfter(t) {
    let lo = 0, hi = events.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (events[mid].t3 < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function inFlight(t) {
    const out = [];
    for (let k = firstArrivingAfter(t); k < events.length && events[k].t3 - maxHop <= t; k++) {
      const e = events[k];
      if (e.t0 <= t && t <= e.t3 && visible(e)) out.push(e);
    }
    return out;
  }
  function drawFrames() {
    gFrames.replaceChildren();
    for (const e of inFlight(state.t)) {
      // A frame moves from its first bit leaving to its last bit arriving.
      const frac = e.t3 > e.t0 ? (state.t - e.t0) / (e.t3 - e.t0) : 1;
      const [x, y] = pointAlong(e.path, frac);
      const c = svg("circle", { cx: x, cy: y, r: 7, fill: colourOf(e.frame), class: "frame" + (state.selected === e.i ? " selected" : ""), "data-frame": e.frame });
      gFrames.append(c);
    }
  }

  // ---------------------------------------------------------------- the event list
  const tbody = document.querySelector("#events tbody");
  const rows = events.map((e) => {
    const f = D.frames[e.frame] || {};
    const tr = el("tr", {
      "data-index": e.i, "data-frame": e.frame, "data-from": e.from, "data-to": e.to,
      "data-t0": e.t0.toPrecision(17), "data-t3": e.t3.toPrecision(17),
    });
    tr.append(el("td", {}, String(e.i + 1)), el("td", {}, e.t3.toFixed(9)), el("td", {}, e.fromDev),
      el("td", {}, e.toDev));
    const type = el("td", {});
    const sw = el("span", { class: "swatch" }); sw.style.background = D.protocol_colors[f.protocol] || "#777"; sw.style.marginLeft = "0";
    type.append(sw, document.createTextNode(f.protocol || "?"));
    tr.append(type, el("td", {}, String(e.frame)), el("td", { class: "info" }, f.summary || ""));
    tr.addEventListener("click", () => { select(e.i); showEvent(e.i); });
    tbody.append(tr);
    return tr;
  });
  function applyFilters() {
    for (const e of events) rows[e.i].style.display = visible(e) ? "" : "none";
    update();
  }

  // ---------------------------------------------------------------- details panel
  const details = $("details");
  function showEvent(i) {
    state.view = ["event", i];
    const e = events[i], f = D.frames[e.frame];
    details.replaceChildren();
    details.append(el("h3", {}, `Frame ${e.frame}: ${f.src || "?"} → ${f.dst || "?"}, ${f.size} bytes`));
    details.append(el("p", { class: "note" }, `Hop ${e.from} → ${e.to} (${f.protocol}, traffic ${f.traffic || "-"}, ${f.outcome || "?"})`));
    const times = el("table", { class: "times" });
    for (const [k, v] of [["First bit out", e.t0], ["Last bit out", e.t1], ["First bit in", e.t2], ["Last bit in", e.t3]]) {
      const tr = el("tr"); tr.append(el("th", {}, k), el("td", { "data-t": v.toPrecision(17) }, fmtTime(v))); times.append(tr);
    }
    details.append(times);
    for (const [name, fields] of f.layers) {
      const d = el("details", { open: "", class: "layer", "data-layer": name });
      d.append(el("summary", {}, name));
      const tab = el("table", { class: "fields" });
      for (const [k, v] of fields) { const tr = el("tr"); tr.append(el("th", {}, k), el("td", {}, v)); tab.append(tr); }
      d.append(tab);
      details.append(d);
    }
    const shown = atob(f.bytes).length;
    details.append(el("h3", {}, shown < f.length ? `Bytes (the first ${shown} of ${f.length}; FCS not shown)` : `Bytes (${f.length}; FCS not shown)`));
    details.append(el("pre", { class: "hex" }, hexdump(f.bytes)));
    markSelected();
  }
  function hexdump(b64) {
    const raw = atob(b64);
    const lines = [];
    for (let off = 0; off < raw.length; off += 16) {
      const chunk = raw.slice(off, off + 16);
      const hex = Array.from(chunk, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join(" ");
      const ascii = Array.from(chunk, (c) => { const n = c.charCodeAt(0); return n >= 32 && n < 127 ? c : "."; }).join("");
      lines.push(off.toString(16).padStart(4, "0") + "  " + hex.padEnd(48) + " " + ascii);
    }
    return lines.join("\n");
  }

  function macTableAt(device, t) {
    const table = new Map();
    for (const [vlan, mac, port, type] of D.mac.initial[device] || []) table.set(vlan + "|" + mac, { vlan, mac, port, type });
    for (const [time, dev, event, mac, port, vlan] of D.mac.events) {
      if (time > t) break;
      if (dev !== device) continue;
      const key = vlan + "|" + mac;
      if (event === "age-out") table.delete(key);
      else table.set(key, { vlan, mac, port, type: "DYNAMIC" });
    }
    return [...table.values()].sort((a, b) => a.vlan - b.vlan || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  }
  function ciscoMac(mac) { const h = mac.replace(/[:.-]/g, ""); return `${h.slice(0, 4)}.${h.slice(4, 8)}.${h.slice(8)}`; }
  function showDevice(name) {
    state.view = ["device", name];
    const n = nodes.get(name);
    details.replaceChildren();
    details.append(el("h3", {}, `${name}${n.model ? " (" + n.model + ")" : ""}: ${n.kind}`));
    if (n.kind !== "switch" && n.kind !== "bridge") {
      details.append(el("p", { class: "note" }, `A ${n.kind} has no MAC address table. Click one of its ports for counters.`));
      markSelected(); return;
    }
    const entries = macTableAt(name, state.t);
    details.append(el("p", { class: "note" }, `show mac address-table, at t = ${fmtTime(state.t)}`));
    const tab = el("table", { class: "mac-table", "data-device": name, "data-t": state.t.toPrecision(17) });
    const head = el("tr"); for (const h of ["Vlan", "Mac Address", "Type", "Ports"]) head.append(el("th", {}, h)); tab.append(head);
    for (const e of entries) {
      const tr = el("tr", { "data-vlan": e.vlan, "data-mac": e.mac, "data-port": e.port });
      tr.append(el("td", {}, String(e.vlan)), el("td", {}, ciscoMac(e.mac)), el("td", {}, e.type), el("td", {}, e.port));
      tab.append(tr);
    }
    details.append(tab);
    details.append(el("p", { class: "note" }, `Total Mac Addresses for this criterion: ${entries.length}`));
    markSelected();
  }
  function countersAt(label, t) {
    const start = D.counters.initial[label];
    const values = start ? start.slice() : D.counters.names.map(() => 0);
    let since = W.start, known = Boolean(start);
    for (const [time, port, moved] of D.counters.changes) {
      if (time > t) break;
      if (port !== label) continue;
      for (const [k, v] of moved) values[k] = v;
      since = time; known = true;
    }
    return [known ? values : null, since];
  }
  function showPort(label) {
    state.view = ["port", label];
    const [values, since] = countersAt(label, state.t);
    details.replaceChildren();
    details.append(el("h3", {}, `Port ${label}`));
    if (!values) { details.append(el("p", { class: "note" }, "No counters recorded for this port.")); markSelected(); return; }
    details.append(el("p", { class: "note" }, `Counters at t = ${fmtTime(state.t)} (last changed by a frame shown here at ${fmtTime(since)}; background load between frames is counted at the next one).`));
    const tab = el("table", { class: "counters", "data-port": label });
    D.counters.names.forEach((name, k) => { const tr = el("tr", { "data-counter": name }); tr.append(el("th", {}, name), el("td", {}, String(values[k]))); tab.append(tr); });
    details.append(tab);
    markSelected();
  }
  function markSelected() {
    const v = state.view || [];
    for (const g of gNodes.children) g.classList.toggle("selected", v[0] === "device" && g.dataset.name === v[1]);
    for (const c of gPorts.children) c.classList.toggle("selected", v[0] === "port" && c.dataset.port === v[1]);
  }
  function refreshView() {
    const v = state.view;
    if (!v) return;
    if (v[0] === "device") showDevice(v[1]);
    else if (v[0] === "port") showPort(v[1]);
  }

  // ---------------------------------------------------------------- time and controls
  function setTime(t) {
    state.t = Math.min(Math.max(t, W.start), W.end);
    update();
    refreshView();
  }
  function select(i) { state.selected = i; setTime(events[i].t3); rows[i].scrollIntoView({ block: "nearest" }); }
  function update() {
    const t = state.t;
    const timeEl = $("time");
    timeEl.dataset.t = t.toPrecision(17);
    timeEl.textContent = "t = " + fmtTime(t);
    const span = W.end - W.start;
    $("slider").value = span > 0 ? Math.round((t - W.start) / span * 1000) : 0;
    let current = null;
    for (const e of events) {
      const done = e.t3 <= t + EPS;
      rows[e.i].classList.toggle("future", !done);
      if (done && visible(e)) current = e.i;
    }
    if (state.selected !== null && events[state.selected].t3 <= t + EPS && visible(events[state.selected])) {
      // A clicked event stays current until the clock moves past a later one.
      const later = current !== null && events[current].t3 > events[state.selected].t3;
      if (!later) current = state.selected;
    }
    for (const r of rows) r.classList.remove("current");
    if (current !== null) {
      rows[current].classList.add("current");
      if (state.playing) rows[current].scrollIntoView({ block: "nearest" });
    }
    drawFrames();
  }
  function step() {
    const cur = document.querySelector("#events tr.current");
    const from = cur ? Number(cur.dataset.index) : -1;
    for (let k = from + 1; k < events.length; k++) {
      if (visible(events[k]) && events[k].t3 >= state.t - EPS) { select(k); if (state.view && state.view[0] === "event") showEvent(k); return; }
    }
  }
  function back() {
    const cur = document.querySelector("#events tr.current");
    const from = cur ? Number(cur.dataset.index) : events.length;
    for (let k = from - 1; k >= 0; k--) {
      if (visible(events[k])) { select(k); if (state.view && state.view[0] === "event") showEvent(k); return; }
    }
    state.selected = null; setTime(W.start);
  }
  let lastWall = null;
  function tick(now) {
    if (!state.playing) return;
    if (lastWall !== null) {
      let t = state.t + (now - lastWall) / 1000 * state.speed;
      if (inFlight(t).length === 0) {
        // Nothing on the wires: skip the idle gap to the next frame leaving.
        const next = events.find((e) => e.t0 > t && visible(e));
        if (next) t = next.t0; else t = W.end;
      }
      state.selected = null;
      setTime(t);
      if (state.t >= W.end) { play(false); return; }
    }
    lastWall = now;
    requestAnimationFrame(tick);
  }
  function play(on) {
    state.playing = on;
    $("play").textContent = on ? "Pause" : "Play";
    lastWall = null;
    if (on) requestAnimationFrame(tick);
  }

  $("play").addEventListener("click", () => play(!state.playing));
  $("step").addEventListener("click", () => { play(false); step(); });
  $("back").addEventListener("click", () => { play(false); back(); });
  $("slider").addEventListener("input", (ev) => {
    play(false); state.selected = null;
    setTime(W.start + (W.end - W.start) * Number(ev.target.value) / 1000);
  });
  const speeds = [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1];
  const sorted = events.map((e) => e.t3 - e.t0).sort((a, b) => a - b);
  const typical = sorted.length ? sorted[sorted.length >> 1] : 1e-3;
  state.speed = speeds.find((s) => s >= typical / 2) || 1;
  for (const s of speeds) {
    const o = el("option", { value: s }, `${fmtShort(s)} per second`);
    if (s === state.speed) o.selected = true;
    $("speed").append(o);
  }
  $("speed").addEventListener("change", (ev) => { state.speed = Number(ev.target.value); });
  const present = new Set(Object.values(D.frames).map((f) => f.protocol));
  for (const p of D.protocols) {
    if (!present.has(p)) continue;
    const lab = el("label");
    const box = el("input", { type: "checkbox", class: "proto-filter", value: p });
    box.checked = true;
    box.addEventListener("change", () => { if (box.checked) state.protocols.add(p); else state.protocols.delete(p); applyFilters(); });
    const sw = el("span", { class: "swatch" }); sw.style.background = D.protocol_colors[p];
    lab.append(box, sw, document.createTextNode(p));
    $("protocols").append(lab);
  }
  const conversations = [...new Set(Object.values(D.frames).map((f) => f.conversation))].sort();
  for (const c of conversations) $("conversation").append(el("option", { value: c }, c));
  $("conversation").addEventListener("change", (ev) => { state.conversation = ev.target.value; applyFilters(); });
  function legend() {
    const box = $("legend"); box.replaceChildren();
    if (state.colourBy !== "traffic") return;
    for (const [name, colour] of Object.entries(D.traffic_colors)) {
      const sw = el("span", { class: "swatch" }); sw.style.background = colour;
      box.append(sw, document.createTextNode(name));
    }
  }
  $("colour-by").addEventListener("change", (ev) => { state.colourBy = ev.target.value; legend(); drawFrames(); });

  const cut = W.cut !== null ? `; the window filled up at ${fmtTime(W.cut)}` : "";
  $("subtitle").textContent = `scenario ${D.scenario}, seed ${D.seed}: ${events.length} events, ${Object.keys(D.frames).length} frames from ${fmtTime(W.start)} to ${fmtTime(W.end)}${cut}`;
  applyFilters();
})();
