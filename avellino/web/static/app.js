// Avellino workbench: fills the server-rendered pages from the JSON API. Every value is inserted as text (never as
// HTML), every write sends the session's CSRF token, and nothing is loaded from outside this server.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let csrf = null;

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: { Accept: "application/json" }, ...options };
  if (init.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(init.body);
  }
  if (init.method && init.method !== "GET") {
    if (csrf === null && path !== "/api/login") csrf = (await api("/api/me")).csrf;
    if (csrf) init.headers["X-CSRF-Token"] = csrf;
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/api/login") {
    location.href = "/login";
    throw new Error("not logged in");
  }
  if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
  return body;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
  const table = tbody.closest("table");
  if (table) table.hidden = false;
}

function entityLink(id, caption, isProtected) {
  return el("a", { href: `/entity/${encodeURIComponent(id)}`, class: isProtected ? "protected" : null }, caption || id);
}

function badge(text, cls) {
  return el("span", { class: `badge ${cls || ""}` }, text);
}

function tlpBadge(tlp) {
  return badge(tlp || "TLP?", `tlp-${String(tlp || "").toLowerCase().replace(/[^a-z]+/g, "-")}`);
}

function showError(where, error) {
  const target = where || $("main");
  target.append(el("p", { class: "error", role: "alert" }, error.message || String(error)));
}

// -- pages ------------------------------------------------------------------------------------------------------
const pages = {};

pages.login = () => {
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#login-error").textContent = "";
    try {
      const me = await api("/api/login", {
        method: "POST",
        body: { user: $("#user").value, password: $("#password").value, purpose: $("#purpose").value },
      });
      csrf = me.csrf;
      location.href = me.role === "dpo" ? "/audit" : me.role === "admin" ? "/users" : "/";
    } catch (error) {
      $("#login-error").textContent = error.message;
    }
  });
};

pages.search = () => {
  const input = $("#q");
  const run = async (q) => {
    if (!q.trim()) return;
    history.replaceState(null, "", `/?q=${encodeURIComponent(q)}`);
    try {
      const found = await api(`/api/search?q=${encodeURIComponent(q)}&limit=30`);
      $("#search-note").textContent = `${found.hits.length} result(s) for “${found.query}” (${found.view})`;
      fill(
        $("#results tbody"),
        found.hits.map((h) =>
          el("tr", {},
            el("td", {}, entityLink(h.id, h.caption, h.protected), h.protected ? badge("protected", "protected") : null),
            el("td", {}, h.schema), el("td", {}, h.matched), el("td", {}, h.score.toFixed(2)),
            el("td", {}, h.originators.join(", ")))
        )
      );
      const first = $("#results tbody a");
      if (first) first.focus();
    } catch (error) {
      showError($("#search-note"), error);
    }
  };
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(input.value);
  });
  const q = new URLSearchParams(location.search).get("q");
  if (q) {
    input.value = q;
    run(q);
  }
};

pages.entity = async () => {
  const id = document.body.dataset.entity;
  $("#to-network").href = `/network/${encodeURIComponent(id)}`;
  $("#to-community").href = `/network/${encodeURIComponent(id)}?community=1`;
  let e;
  try {
    e = await api(`/api/entities/${encodeURIComponent(id)}`);
  } catch (error) {
    return showError(null, error);
  }
  document.title = `${e.caption} · Avellino`;
  $("h1").textContent = e.caption;
  if (e.protected) {
    const banner = $("#safeguarding");
    banner.textContent = e.safeguarding;
    banner.hidden = false;
  }
  $("#entity-head").replaceChildren(
    el("p", {}, badge(e.schema), " ", tlpBadge(e.tlp), " ", `${e.records.length} record(s) from `,
       Object.keys(e.originators).join(", "))
  );
  const facts = $("#facts");
  facts.replaceChildren();
  for (const [originator, rows] of Object.entries(e.originators)) {
    facts.append(
      el("h3", {}, originator),
      el("table", { class: "list facts" },
        el("thead", {}, el("tr", {}, ["Property", "Value", "Markings", "Conditions", "Source"].map((h) => el("th", {}, h)))),
        el("tbody", {}, rows.map((f) =>
          el("tr", {},
            el("td", {}, f.prop), el("td", { class: "value" }, f.value),
            el("td", {}, tlpBadge(f.tlp), " ", badge(f.handling_code, "hc"), " ", badge(f.evaluation || "?", "ev"), " ",
               badge(f.subject_category, f.subject_category === "victim" || f.subject_category === "witness" || f.subject_category === "informant" ? "protected" : "cat")),
            el("td", { class: "caveat" }, f.caveat || ""),
            el("td", {}, f.source_record || f.record)))))
    );
  }
  fill($("#links tbody"), e.links.map((l) =>
    el("tr", {}, el("td", {}, l.direction === "out" ? "→" : "←"), el("td", {}, l.prop),
       el("td", {}, entityLink(l.id, l.caption, l.protected)), el("td", {}, l.schema))));
  // resolution: the records merged here, and why any two of them were joined
  const members = $("#members");
  members.replaceChildren(el("p", {}, `${e.records.length} record(s) merged into this entity.`));
  if (e.records.length > 1 && document.body.dataset.rights !== "") {
    const list = el("ul", {});
    for (const other of e.records.slice(1)) {
      const a = e.records[0];
      list.append(el("li", {}, `${a} ↔ ${other} `,
        el("button", { type: "button", class: "explain", "data-a": a, "data-b": other, onclick: () => explainPair(a, other, $("#explanation")) }, "Why?"),
        judgeButtons(a, other)));
    }
    members.append(list);
  }
};

function judgeButtons(a, b, done) {
  const box = el("span", { class: "judge" });
  for (const verdict of ["same", "different", "unsure"]) {
    box.append(el("button", {
      type: "button", class: `judge-${verdict}`, "data-verdict": verdict,
      onclick: async () => {
        try {
          const reason = prompt(`Reason for “${verdict}”?`, "") || "";
          const row = await api("/api/judgements", { method: "POST", body: { left: a, right: b, verdict, reason } });
          box.replaceChildren(el("span", { class: "done" }, `judged ${verdict} (${row.judgement_id})`));
          if (done) done(verdict);
        } catch (error) {
          showError(box, error);
        }
      },
    }, verdict));
  }
  return box;
}

async function explainPair(a, b, target) {
  target.hidden = false;
  target.replaceChildren(el("p", {}, "…"));
  try {
    const x = await api(`/api/explain?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    const rows = (x.steps || []).map((w) =>
      el("tr", {}, el("td", {}, w.comparison || ""), el("td", {}, w.level || ""),
         el("td", {}, w.left ?? ""), el("td", {}, w.right ?? ""),
         el("td", { class: Number(w.match_weight) < 0 ? "neg" : "pos" }, w.match_weight !== undefined ? Number(w.match_weight).toFixed(2) : "")));
    const ids = Object.entries(x.identifiers || {}).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`).join("; ");
    const summary = [
      x.match_probability !== null && x.match_probability !== undefined ? `match probability ${Number(x.match_probability).toFixed(3)}` : "not scored by the model",
      x.rule ? `rule: ${x.rule} (${x.evidence || ""})` : "",
      x.judgement ? `analyst judgement: ${x.judgement}` : "",
      ids ? `shared identifiers: ${ids}` : "",
    ].filter(Boolean).join(" · ");
    target.replaceChildren(
      el("h3", {}, `Why ${a} and ${b}`),
      el("p", {}, summary),
      rows.length
        ? el("table", { class: "list" },
            el("thead", {}, el("tr", {}, ["Comparison", "Level", "Left", "Right", "Weight"].map((h) => el("th", {}, h)))),
            el("tbody", {}, rows))
        : el("p", { class: "hint" }, "No model comparison for this pair."));
  } catch (error) {
    target.replaceChildren();
    showError(target, error);
  }
}

pages.network = async () => {
  const id = document.body.dataset.entity;
  const params = new URLSearchParams(location.search);
  if (params.get("community")) $("#community").checked = true;
  const draw = async () => {
    const community = $("#community").checked;
    const depth = $("#depth").value;
    let g;
    try {
      g = await api(`/api/network/${encodeURIComponent(id)}?depth=${depth}&community=${community}`);
    } catch (error) {
      return showError($("#network-note"), error);
    }
    $("#network-note").textContent = `${g.nodes.length} node(s), ${g.edges.length} tie(s)` + (g.truncated ? " (truncated: the nearest shown)" : "");
    const elements = [
      ...g.nodes.map((n) => ({ data: { id: n.id, label: n.label, kind: n.kind, protected: n.protected ? 1 : 0, center: n.id === g.center ? 1 : 0 } })),
      ...g.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target, kind: e.kind, weight: e.events } })),
    ];
    const cy = cytoscape({
      container: $("#cy"),
      elements,
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 8000 },
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 9, "background-color": "#3b6ea5", width: 14, height: 14 } },
        { selector: "node[kind != 'party']", style: { shape: "round-rectangle", "background-color": "#8a8f98", width: 10, height: 10 } },
        { selector: "node[protected = 1]", style: { "background-color": "#1b9e4b", shape: "diamond", "border-width": 2, "border-color": "#0b5" } },
        { selector: "node[center = 1]", style: { width: 22, height: 22, "border-width": 3, "border-color": "#222" } },
        { selector: "edge", style: { width: "mapData(weight, 1, 20, 1, 5)", "line-color": "#b8c0cc", "curve-style": "haystack" } },
      ],
    });
    cy.on("tap", "node", (event) => { location.href = `/entity/${encodeURIComponent(event.target.id())}`; });
    fill($("#network-nodes tbody"), g.nodes.map((n) =>
      el("tr", {}, el("td", {}, entityLink(n.id, n.label, n.protected)), el("td", {}, n.schema || n.kind),
         el("td", {}, n.categories), el("td", {}, n.protected ? badge(n.safeguarding || "protected", "protected") : ""))));
  };
  $("#community").addEventListener("change", draw);
  $("#depth").addEventListener("change", draw);
  draw();
};

pages.routes = async () => {
  let data;
  try {
    data = await api("/api/routes");
  } catch (error) {
    return showError(null, error);
  }
  const map = L.map("map", { zoomControl: true, attributionControl: true }).setView([45, 15], 4);
  map.attributionControl.addAttribution("Land: Natural Earth (public domain)");
  const land = await fetch("/data/land.geojson").then((r) => r.json());
  L.geoJSON(land, { style: { color: "#9aa5b1", weight: 0.6, fillColor: "#eef1f4", fillOpacity: 1 } }).addTo(map);
  const max = Math.max(1, ...data.routes.map((r) => Number(r.people) || 0));
  for (const r of data.routes) {
    const a = data.places[r.from];
    const b = data.places[r.to];
    if (!a || !b) continue;
    const weight = 1 + 8 * Math.sqrt((Number(r.people) || 0) / max);
    L.polyline([[a.lat, a.lon], [b.lat, b.lon]], { color: String(r.stage || "").endsWith("arrival") ? "#c0392b" : "#2c6fbb", weight, opacity: 0.7 })
      .bindTooltip(`${r.from} → ${r.to}: ${r.people} people, ${r.count} leg(s) or crossing(s)`).addTo(map);
  }
  for (const [name, p] of Object.entries(data.places)) {
    L.circleMarker([p.lat, p.lon], { radius: 3, color: "#333" }).bindTooltip(name).addTo(map);
  }
  // operator_ids: ids joined by ";"; operators: "Name (n)" joined by ", " in the same order (network/routes.py)
  fill($("#route-table tbody"), data.routes.map((r) => {
    const ids = String(r.operator_ids || "").split(";").filter(Boolean);
    const names = String(r.operators || "").split(", ");
    return el("tr", {}, el("td", {}, r.from), el("td", {}, r.to), el("td", {}, String(r.stage || "").replace(" -> ", " → ")),
       el("td", {}, r.transport || ""), el("td", {}, r.count), el("td", {}, r.people),
       el("td", {}, ids.flatMap((id, i) => [i ? ", " : "", entityLink(id, ids.length === names.length ? names[i] : id)])),
       el("td", {}, r.protected || ""));
  }));
};

pages.flows = async () => {
  let f;
  try {
    f = await api("/api/flows");
  } catch (error) {
    return showError(null, error);
  }
  $("#flows-title").textContent = f.title || f.note || "";
  const s = f.series[0];
  if (s) {
    const labels = [...s.history.map((h) => h.ds), ...s.forecast.map((p) => p.ds)];
    const pad = (n) => Array(n).fill(null);
    const point = s.forecast.map((p) => p[s.point] ?? p.avellino ?? null);
    const lo = s.forecast.map((p) => p[`${s.point}-lo-80`] ?? null);
    const hi = s.forecast.map((p) => p[`${s.point}-hi-80`] ?? null);
    new Chart($("#flows-chart"), {
      type: "line",
      data: {
        labels,
        datasets: [
          { label: "observed", data: [...s.history.map((h) => h.y), ...pad(point.length)], borderColor: "#333", pointRadius: 0 },
          { label: "forecast", data: [...pad(s.history.length), ...point], borderColor: "#c0392b", pointRadius: 2 },
          { label: "80% low", data: [...pad(s.history.length), ...lo], borderColor: "#e8a09a", borderDash: [4, 4], pointRadius: 0 },
          { label: "80% high", data: [...pad(s.history.length), ...hi], borderColor: "#e8a09a", borderDash: [4, 4], pointRadius: 0 },
        ],
      },
      options: { animation: false, scales: { y: { beginAtZero: true } } },
    });
  }
  $("#alerts").replaceChildren(...(f.alerts.length ? f.alerts.map((a) => el("li", {}, a.message)) : [el("li", {}, "No alert.")]));
};

pages.review = async () => {
  let q;
  try {
    q = await api("/api/review?limit=50");
  } catch (error) {
    return showError(null, error);
  }
  const rows = q.pairs.map((p) => {
    const row = el("tr", { tabindex: 0 },
      el("td", {}, entityLink(p.left, p.left_caption), el("br"), el("small", {}, p.left)),
      el("td", {}, entityLink(p.right, p.right_caption), el("br"), el("small", {}, p.right)),
      el("td", {}, p.match_probability.toFixed(3), p.protected ? badge("protected", "protected") : null),
      el("td", {}, el("button", { type: "button", class: "explain", onclick: () => explainPair(p.left, p.right, $("#explanation")) }, "Why?")),
      el("td", {}, judgeButtons(p.left, p.right)));
    row.addEventListener("keydown", (event) => {
      const verdict = { s: "same", d: "different", u: "unsure" }[event.key];
      if (verdict) $(`.judge-${verdict}`, row)?.click();
    });
    return row;
  });
  fill($("#review tbody"), rows.length ? rows : [el("tr", {}, el("td", { colspan: 5 }, "Nothing waiting for review."))]);
};

pages.targets = async () => {
  let t;
  let me;
  try {
    [t, me] = await Promise.all([api("/api/targets?k=10"), api("/api/me")]);
  } catch (error) {
    return showError(null, error);
  }
  const supervisor = me.rights.includes("confirm");
  fill($("#targets tbody"), t.targets.map((x) =>
    el("tr", {}, el("td", {}, x.rank), el("td", {}, entityLink(x.id, x.label)), el("td", {}, x.role), el("td", {}, x.evidence),
       el("td", {}, x.lcc_drop),
       el("td", {}, supervisor ? el("button", { type: "button", class: "confirm", onclick: async (event) => {
         const reason = prompt("Reason for confirming this target?", "");
         if (!reason) return;
         try {
           await api(`/api/targets/${encodeURIComponent(x.id)}/confirm`, { method: "POST", body: { reason } });
           event.target.replaceWith(el("span", { class: "done" }, "confirmed"));
         } catch (error) { showError(event.target.parentElement, error); }
       } }, "Confirm") : "supervisor confirms"))));
  $("#protected").replaceChildren(...t.protected.map((p) => el("li", {}, entityLink(p.id, p.id, true), ` — ${p.reason}`)));
  $("#confirmed").replaceChildren(...(t.confirmed || []).map((c) => el("li", {}, `${c.caption} by ${c.confirmed_by} (${c.confirmed_at}): ${c.reason}`)));
};

pages.sharing = async () => {
  let s;
  try {
    s = await api("/api/sharing");
  } catch (error) {
    return showError(null, error);
  }
  fill($("#partners tbody"), s.partners.map((p) =>
    el("tr", {}, el("td", {}, p.name), el("td", {}, p.country), el("td", {}, p.law_enforcement ? "yes" : "no"),
       el("td", {}, p.teams.join(", ")), el("td", {}, p.fingerprint))));
  fill($("#sent tbody"), s.sent.map((b) =>
    el("tr", {}, el("td", {}, b.created), el("td", {}, (b.recipients || []).join(", ")), el("td", {}, b.purpose),
       el("td", {}, b.statements), el("td", {}, Object.entries(b.withheld || {}).map(([k, v]) => `${k}: ${v}`).join("; ")))));
  fill($("#received tbody"), s.received.map((r) =>
    el("tr", {}, el("td", {}, r.time), el("td", {}, r.action), el("td", {}, r.purpose), el("td", {}, (r.touched || {}).count ?? ""))));
};

pages.audit = async () => {
  let a;
  try {
    a = await api("/api/audit?limit=300");
  } catch (error) {
    return showError(null, error);
  }
  const v = $("#audit-verify");
  v.textContent = a.verify.intact ? `Chain intact: ${a.verify.entries} entries verified.` : `CHAIN BROKEN: ${a.verify.problem}`;
  v.className = a.verify.intact ? "banner ok" : "banner";
  fill($("#audit tbody"), a.entries.map((e) =>
    el("tr", {}, el("td", {}, e.seq), el("td", {}, e.time), el("td", {}, e.user), el("td", {}, e.purpose), el("td", { class: "action" }, e.action),
       el("td", {}, e.touched && e.touched.ids ? e.touched.ids.slice(0, 5).join(", ") + (e.touched.ids.length > 5 ? " …" : "") : JSON.stringify(e.touched)))));
};

pages.retention = async () => {
  let r;
  try {
    r = await api("/api/retention");
  } catch (error) {
    return showError(null, error);
  }
  $("#retention-note").textContent = `${r.statements} statement(s) of ${r.entities} entit(ies) past review before ${r.before}.`;
  fill($("#retention tbody"), r.groups.map((g) =>
    el("tr", {}, el("td", {}, g.originator), el("td", {}, g.subject_category), el("td", {}, g.statements), el("td", {}, g.entities), el("td", {}, g.oldest_review))));
};

pages.jits = async () => {
  let j;
  try {
    j = await api("/api/jits");
  } catch (error) {
    return showError(null, error);
  }
  fill($("#jits tbody"), j.jits.length ? j.jits.map((x) =>
    el("tr", {}, el("td", {}, el("a", { href: `/jit/${encodeURIComponent(x.name)}` }, x.name)), el("td", {}, x.members.join(", ")),
       el("td", {}, x.until), el("td", {}, x.purposes.join(", ")), el("td", {}, x.state)))
    : [el("tr", {}, el("td", { colspan: 5 }, "This node holds no JIT agreement."))]);
};

pages.jit = async () => {
  const name = document.body.dataset.entity;
  let c;
  try {
    c = await api(`/api/jits/${encodeURIComponent(name)}`);
  } catch (error) {
    return showError(null, error);
  }
  $("h1").textContent = `JIT ${c.name}`;
  $("#jit-head").replaceChildren(
    el("p", {}, `State: ${c.state} · term ${c.term.join(" – ")} · purposes: ${c.purposes.join(", ")} · on end: ${c.on_end}`),
    el("p", {}, "Members: ", Object.entries(c.members).map(([m, s], i) => [i ? ", " : "", `${m} (${s})`])),
    c.h1_evidence ? el("p", { class: "caveat" }, "H1 facts may serve as evidence inside this JIT (agreement).") : null);
  fill($("#contributions tbody"), c.contributions.map((x) =>
    el("tr", {}, el("td", {}, x.originator ?? ""), el("td", {}, x.entities ?? ""), el("td", {}, x.statements ?? ""))));
  $("#resolved").replaceChildren(...c.resolved_persons.map((p) => el("li", {}, entityLink(p, p))));
  const n = c.network;
  $("#jit-note").textContent = `${n.nodes.length} node(s), ${n.links.length} link(s), ${n.cross_member_links} across members` +
    (Object.keys(n.withheld || {}).length ? `; withheld: ${Object.entries(n.withheld).map(([k, v]) => `${k} ${v}`).join(", ")}` : "");
  cytoscape({
    container: $("#cy"),
    elements: [
      ...n.nodes.map((x) => ({ data: { id: x.id, label: x.label, protected: x.protected ? 1 : 0 } })),
      ...n.links.map((l, i) => ({ data: { id: `l${i}`, source: l.source, target: l.target, cross: l.cross_member ? 1 : 0 } })),
    ],
    layout: { name: "cose", animate: false },
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, "background-color": "#3b6ea5", width: 14, height: 14 } },
      { selector: "node[protected = 1]", style: { "background-color": "#1b9e4b", shape: "diamond" } },
      { selector: "edge", style: { "line-color": "#b8c0cc", width: 2 } },
      { selector: "edge[cross = 1]", style: { "line-color": "#c0392b", width: 3 } },
    ],
  });
  $("#jit-protected").replaceChildren(...(n.safeguarding || []).map((p) => el("li", {}, `${p.label || p.id}: ${p.reason || p.safeguarding || "protected"}`)));
};

pages.users = async () => {
  let u;
  try {
    u = await api("/api/users");
  } catch (error) {
    return showError(null, error);
  }
  fill($("#users tbody"), u.users.map((x) =>
    el("tr", {}, el("td", {}, x.name), el("td", {}, x.role), el("td", {}, x.agency || "(this agency)"), el("td", {}, x.disabled ? "yes" : ""))));
};

// -- everywhere -------------------------------------------------------------------------------------------------
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    event.preventDefault();
    if ($("#q")) $("#q").focus();
    else location.href = "/";
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const logout = $("#logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      await api("/api/logout", { method: "POST" }).catch(() => null);
      location.href = "/login";
    });
  }
  const page = pages[document.body.dataset.page];
  if (page) page();
});
