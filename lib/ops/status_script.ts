/**
 * The status page's script (inlined by status_page.ts): fetches `/ui/data` every 10 s and
 * renders the five at-a-glance cards, the Chutes account (reset times as local time and "in
 * 2 h 10 min"), the chart, the models with their warmth, usage per period and the recent
 * requests with each failure's reason. A value the data lacks shows as "—". Plain ES2020 with
 * no dependencies; every text from the data is escaped.
 */

/** The script's source. */
export const STATUS_SCRIPT = `
"use strict";
const key = new URLSearchParams(location.hash.slice(1)).get("key");
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const none = (v) => v === null || v === undefined;
const dur = (s) => s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h";
const until = (s) => { if (none(s)) return ""; if (s <= 0) return "now"; const m = Math.floor(s / 60);
  if (m < 60) return m + " min"; const h = Math.floor(m / 60); return h < 48 ? h + " h " + (m % 60) + " min" : Math.floor(h / 24) + " days"; };
const usd = (n) => none(n) ? "—" : n === 0 ? "$0" : Math.abs(n) < 0.01 ? "$" + n.toPrecision(2) : "$" + n.toFixed(2);
const num = (n) => none(n) ? "—" : Number(n).toLocaleString();
const local = (iso) => none(iso) ? "—" : new Date(iso).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
const reset = (w) => none(w.reset_at) ? "" : "resets " + local(w.reset_at) + " (in " + until(w.reset_in_seconds) + ")";
function card(id, big, cls, detail) {
  $(id).innerHTML = $(id).firstElementChild.outerHTML + '<div class="big ' + (cls || "") + '">' + big + "</div>" +
    (detail ? '<div class="small">' + detail + "</div>" : "");
}
// cols: "Label" or "Label|class" (num: right-aligned, nw: no wrap, wide: the long column).
function rows(id, items, cols, cells) {
  const spec = cols.map((c) => c.split("|"));
  $(id).tBodies[0].innerHTML = items.map((it) => "<tr>" + cells(it).map((c, i) =>
    '<td data-label="' + spec[i][0] + '"' + (spec[i][1] ? ' class="' + spec[i][1] + '"' : "") + ">" + c + "</td>").join("") + "</tr>").join("")
    || '<tr><td class="muted" colspan="10">none yet</td></tr>';
}
// A line may break after each "/" of a model id or a path, and nowhere else in it.
const wbr = (s) => esc(s).replace(/\\//g, "/<wbr>");
const clip = (s, n) => s.length > n ? s.slice(0, n - 1) + "…" : s;
function windowText(name, w) {
  if (!w) return name + " —";
  if (w.uncapped) return name + " " + usd(w.used) + " used, no cap";
  const left = none(w.remaining) ? "" : " · " + usd(w.remaining) + " left";
  return name + " " + usd(w.used) + " of " + usd(w.cap) + left + (w.reset_at ? " · " + reset(w) : "");
}
function quota(d) {
  const a = d.account;
  if (a.disabled) { card("card-quota", "—", "muted", esc(a.disabled)); return; }
  const sub = a.subscription, four = sub.four_hour, daily = a.daily;
  let big = "—", cls = "muted";
  if (four && !four.uncapped && !none(four.remaining)) {
    big = usd(four.remaining) + " left (4 h)"; cls = four.remaining > 0 ? "ok" : "bad";
  } else if (daily.quota === "unlimited") { big = "unlimited"; cls = "ok"; }
  else if (typeof daily.quota === "number" && !none(daily.used)) {
    big = num(daily.quota - daily.used) + " requests left"; cls = daily.used < daily.quota ? "ok" : "bad";
  }
  const next = four && four.reset_at ? reset(four) : typeof daily.quota === "number" ? "daily quota " + reset(daily) : "";
  card("card-quota", big, cls, esc(next || sub.error || daily.error || ""));
}
function account(d) {
  const a = d.account, box = $("account").lastElementChild;
  if (a.disabled) { box.innerHTML = '<span class="muted">' + esc(a.disabled) + "</span>"; return; }
  const sub = a.subscription, daily = a.daily, bal = a.balance;
  const when = (p) => p.error ? ' <span class="bad">(' + esc(p.error) + ")</span>" : p.fetched_at ? ' <span class="muted">· fetched ' + local(p.fetched_at) + "</span>" : "";
  const subText = sub.subscribed === false ? "no subscription (pay as you go)" : sub.error && !sub.four_hour ? "—"
    : esc(windowText("4-hour:", sub.four_hour)) + "<br>" + esc(windowText("monthly:", sub.monthly));
  const dailyText = daily.quota === "unlimited" ? "unlimited" : none(daily.quota) && none(daily.used) ? "—"
    : num(daily.used) + " / " + num(daily.quota) + " requests" + (daily.reset_at ? " · " + reset(daily) : "");
  box.innerHTML = '<table class="stack acct"><tbody>' +
    '<tr><td data-label="">Subscription' + (sub.plan ? " (" + esc(sub.plan) + ")" : "") + "</td><td>" + subText + when(sub) + "</td></tr>" +
    '<tr><td data-label="">Daily quota</td><td>' + dailyText + when(daily) + "</td></tr>" +
    '<tr><td data-label="">Balance</td><td>' + usd(bal.usd) + when(bal) + "</td></tr></tbody></table>";
}
function chart(buckets) {
  // One viewBox unit per CSS pixel, so the labels keep their size on a phone.
  const svg = $("chart"), H = 220, pad = 28, now = Math.floor(Date.now() / 60000);
  const W = Math.max(300, Math.round(svg.getBoundingClientRect().width)) || 960;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  const byMinute = new Map(buckets.map((b) => [b.minute, b]));
  const max = Math.max(1, ...buckets.map((b) => b.tokensIn + b.tokensOut));
  const maxErr = Math.max(1, ...buckets.map((b) => b.errors));
  const bw = (W - 2 * pad) / 60;
  let out = '<line x1="' + pad + '" y1="' + (H - pad) + '" x2="' + (W - pad) + '" y2="' + (H - pad) + '" stroke="#98a2b3"/>';
  out += '<text x="' + pad + '" y="' + (H - 8) + '" font-size="13" fill="#5d6b82">60 min ago</text>';
  out += '<text x="' + (W - pad) + '" y="' + (H - 8) + '" font-size="13" fill="#5d6b82" text-anchor="end">now</text>';
  out += '<text x="' + pad + '" y="14" font-size="13" fill="#5d6b82">' + max + " tokens/min</text>";
  for (let i = 0; i < 60; i++) {
    const b = byMinute.get(now - 59 + i);
    if (!b) continue;
    const x = pad + i * bw, hIn = (H - 2 * pad) * b.tokensIn / max, hOut = (H - 2 * pad) * b.tokensOut / max;
    out += '<rect class="bar in" x="' + x + '" y="' + (H - pad - hIn) + '" width="' + (bw - 2) + '" height="' + hIn + '" fill="var(--in)"/>';
    out += '<rect class="bar out" x="' + x + '" y="' + (H - pad - hIn - hOut) + '" width="' + (bw - 2) + '" height="' + hOut + '" fill="var(--out)"/>';
    if (b.errors > 0) {
      const r = 3 + 5 * b.errors / maxErr;
      out += '<circle class="error" cx="' + (x + bw / 2) + '" cy="' + (pad + 6) + '" r="' + r + '" fill="var(--err)"><title>' + b.errors + " errors</title></circle>";
    }
  }
  if (buckets.length === 0) out += '<text x="' + W / 2 + '" y="110" text-anchor="middle" fill="#5d6b82">no traffic in the last hour</text>';
  svg.innerHTML = out;
  svg.dataset.minutes = String(buckets.length);
}
const pill = (w) => w ? '<span class="pill ' + esc(w.state) + '">' + esc(w.state) + "</span>" +
  (none(w.busy) ? "" : ' <span class="small">' + Math.round(w.busy * 100) + "% busy</span>") : '<span class="muted">—</span>';
function status(r) {
  const cls = r.outcome === "ok" ? "ok" : r.outcome === "aborted" ? "warn" : "bad";
  const word = r.outcome === "failed" && r.status < 400 ? r.status + " failed" : r.outcome === "aborted" ? r.status + " left" : String(r.status);
  return '<span class="' + cls + '">' + word + "</span>";
}
let last;
function render(d) {
  last = d;
  $("uptime").textContent = "up " + dur(d.uptime_seconds) + " · proxy " + d.proxy_version + " · reports Ollama " + d.ollama_version;
  $("streams").textContent = d.open_streams + " open streams";
  const up = d.upstream;
  card("card-upstream", up.reachable ? "upstream reachable" : "upstream not reachable", up.reachable ? "ok" : "bad",
    esc(up.base_url) + (none(up.last_listing_age_seconds) ? "" : " · listed " + dur(up.last_listing_age_seconds) + " ago"));
  card("card-token", up.token_valid === true ? "token valid" : up.token_valid === false ? "token refused" : "not checked yet",
    up.token_valid === true ? "ok" : up.token_valid === false ? "bad" : "muted", esc(up.token_problem || ""));
  quota(d);
  const hot = d.models.filter((m) => m.warmth && m.warmth.state === "hot");
  card("card-warm", hot.length + " hot of " + d.models.length, hot.length ? "ok" : "muted",
    esc(hot.slice(0, 4).map((m) => m.name.replace(/:latest$/, "")).join(", ") + (hot.length > 4 ? " …" : "")) + (d.warmth_error ? ' <span class="bad">' + esc(d.warmth_error) + "</span>" : ""));
  const errs = d.errors_last_hour, reasons = new Map();
  for (const e of errs) reasons.set(e.error || "HTTP " + e.status, (reasons.get(e.error || "HTTP " + e.status) || 0) + 1);
  card("card-errors", String(errs.length), errs.length ? "bad" : "ok", errs.length ? '<ul class="reasons">' +
    [...reasons].slice(0, 3).map(([why, n]) => "<li>" + n + "× " + esc(clip(why, 90)) + "</li>").join("") + "</ul>" : "no failed requests");
  account(d);
  chart(d.last_hour);
  rows("models", d.models, ["Model|any", "Warmth|nw", "Capabilities", "Context|num", "$ / M|num"], (m) => [esc(m.name), pill(m.warmth),
    m.capabilities.map((c) => '<span class="cap">' + esc(c) + "</span>").join(""), num(m.context_length),
    m.pricing ? m.pricing.prompt + " / " + m.pricing.completion : "—"]);
  const s = d.stored_usage, periods = [["today", s.today], ["this week", s.week], ["this month", s.month]];
  rows("usage", periods, ["Period|nw", "Requests|num", "Errors|num", "Tokens|num", "Cost|num"], ([name, p]) => [name, num(p.requests), num(p.errors),
    num(p.tokens_in) + " / " + num(p.tokens_out), usd(p.cost_usd)]);
  const split = (list, k) => list.map((x) => esc(x[k] || "no key") + " " + num(x.requests)).join(", ") || "—";
  $("usage-split").innerHTML = "This month by model: " + split(s.month.by_model, "model") + "<br>by door: " + split(s.month.by_door, "door") +
    "<br>by key: " + split(s.month.by_key, "key_name") + "<br>" + (s.problem ? '<span class="bad">' + esc(s.problem) + "</span>" : s.where === "memory" ? "counted in memory only: not kept after a restart" : "kept in " + esc(s.where) + " for " + s.retention_days + " days");
  rows("recent", d.recent, ["Time|nw", "Request", "Model", "Key|nw", "Status|nw", "Reason|any", "Tokens|num", "TTFT|num", "Total|num", "Id|nw"], (r) => [
    new Date(r.at).toLocaleTimeString(), wbr((r.door ? r.door + " " : "") + r.method + " " + r.route), wbr(r.model || "—"), esc(r.keyName || "—"),
    status(r), r.error ? '<span class="' + (r.outcome === "aborted" ? "warn" : "bad") + '">' + esc(r.error) + "</span>" : "—",
    r.promptTokens + " / " + r.completionTokens, none(r.ttftMs) ? "—" : Math.round(r.ttftMs) + " ms", Math.round(r.totalMs) + " ms", esc(r.id)]);
  document.body.dataset.loaded = "true";
}
async function refresh() {
  try {
    const res = await fetch("/ui/data", { headers: key ? { authorization: "Bearer " + key } : {} });
    if (!res.ok) throw new Error((await res.json()).error || res.status);
    render(await res.json());
  } catch (err) {
    $("uptime").innerHTML = '<span class="bad">cannot load status: ' + esc(err.message) + "</span>" +
      (String(err.message).includes("unauthorized") ? " — open this page as /ui#key=&lt;your proxy key&gt;" : "");
  }
}
refresh();
setInterval(refresh, 10000);
// The chart is drawn at the page's width: draw it again when the width changes.
addEventListener("resize", () => { if (last) chart(last.last_hour); });
`;
