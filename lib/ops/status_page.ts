/**
 * The status page (`GET /ui`): one static HTML document with inline CSS and script and no
 * external assets, embedded as a module so a compiled binary carries it. The script fetches
 * `/ui/data` (sending `#key=<proxy key>` from the address as a bearer token when access keys
 * are on), renders uptime, upstream health, models, usage cost and recent requests, and draws
 * an SVG chart of tokens and errors per minute over the last hour. It refreshes every 10 s.
 */

/** The page's HTML. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ollama-chutes-proxy status</title>
<style>
  :root { --fg: #1d2433; --muted: #667085; --line: #e4e7ec; --in: #7aa2f7; --out: #3451b2; --err: #d92d20; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #f8f9fb; }
  header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  h1 { font-size: 18px; margin: 0; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; overflow: auto; }
  section.wide { grid-column: 1 / -1; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 600; }
  .ok { color: #067647; } .bad { color: var(--err); } .muted { color: var(--muted); }
  .cap { display: inline-block; padding: 0 6px; margin-right: 4px; border-radius: 4px; background: #eef2ff; font-size: 12px; }
  .legend span { margin-right: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
</style>
</head>
<body>
<header>
  <h1>ollama-chutes-proxy</h1>
  <span id="uptime" class="muted">loading…</span>
  <span id="upstream"></span>
  <span id="streams" class="muted"></span>
  <span id="cost"></span>
</header>
<main>
  <section class="wide">
    <h2>Tokens and errors, last hour</h2>
    <div class="legend"><span><i style="background:var(--in)"></i>tokens in</span><span><i style="background:var(--out)"></i>tokens out</span><span><i style="background:var(--err)"></i>errors</span></div>
    <svg id="chart" width="100%" height="220" viewBox="0 0 960 220" role="img" aria-label="tokens and errors per minute"></svg>
  </section>
  <section><h2>Models</h2><table id="models"><thead><tr><th>Model</th><th>Capabilities</th><th>Context</th><th>$ / M in / out</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Usage</h2><table id="usage"><thead><tr><th>Model</th><th>Tokens in</th><th>Tokens out</th><th>Cost (est.)</th></tr></thead><tbody></tbody></table></section>
  <section class="wide"><h2>Recent requests</h2><table id="recent"><thead><tr><th>Time</th><th>Request</th><th>Model</th><th>Status</th><th>Tokens</th><th>TTFT</th><th>Total</th><th>Id</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
const key = new URLSearchParams(location.hash.slice(1)).get("key");
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const dur = (s) => s < 120 ? s + " s" : s < 7200 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h";
const usd = (n) => n === null ? "—" : n === 0 ? "$0" : n < 0.01 ? "$" + n.toPrecision(2) : "$" + n.toFixed(2);
function rows(id, items, cells) {
  $(id).tBodies[0].innerHTML = items.map((it) => "<tr>" + cells(it).map((c) => "<td>" + c + "</td>").join("") + "</tr>").join("")
    || '<tr><td class="muted" colspan="8">none yet</td></tr>';
}
function chart(buckets) {
  const svg = $("chart"), W = 960, H = 220, pad = 28, now = Math.floor(Date.now() / 60000);
  const byMinute = new Map(buckets.map((b) => [b.minute, b]));
  const max = Math.max(1, ...buckets.map((b) => b.tokensIn + b.tokensOut));
  const maxErr = Math.max(1, ...buckets.map((b) => b.errors));
  const bw = (W - 2 * pad) / 60;
  let out = '<line x1="' + pad + '" y1="' + (H - pad) + '" x2="' + (W - pad) + '" y2="' + (H - pad) + '" stroke="#98a2b3"/>';
  out += '<text x="' + pad + '" y="' + (H - 8) + '" font-size="11" fill="#667085">60 min ago</text>';
  out += '<text x="' + (W - pad) + '" y="' + (H - 8) + '" font-size="11" fill="#667085" text-anchor="end">now</text>';
  out += '<text x="' + pad + '" y="14" font-size="11" fill="#667085">' + max + ' tokens/min</text>';
  for (let i = 0; i < 60; i++) {
    const b = byMinute.get(now - 59 + i);
    if (!b) continue;
    const x = pad + i * bw, hIn = (H - 2 * pad) * b.tokensIn / max, hOut = (H - 2 * pad) * b.tokensOut / max;
    out += '<rect class="bar in" x="' + x + '" y="' + (H - pad - hIn) + '" width="' + (bw - 2) + '" height="' + hIn + '" fill="var(--in)"/>';
    out += '<rect class="bar out" x="' + x + '" y="' + (H - pad - hIn - hOut) + '" width="' + (bw - 2) + '" height="' + hOut + '" fill="var(--out)"/>';
    if (b.errors > 0) {
      const r = 3 + 5 * b.errors / maxErr;
      out += '<circle class="error" cx="' + (x + bw / 2) + '" cy="' + (pad + 6) + '" r="' + r + '" fill="var(--err)"><title>' + b.errors + ' errors</title></circle>';
    }
  }
  if (buckets.length === 0) out += '<text x="480" y="110" text-anchor="middle" fill="#667085">no traffic in the last hour</text>';
  svg.innerHTML = out;
  svg.dataset.minutes = String(buckets.length);
}
function render(d) {
  $("uptime").textContent = "up " + dur(d.uptime_seconds) + " · proxy " + d.proxy_version + " · reports Ollama " + d.ollama_version;
  const up = d.upstream;
  $("upstream").innerHTML = up.reachable
    ? '<span class="ok">upstream reachable</span> <span class="muted">(' + esc(up.base_url) + ", listed " + dur(up.last_listing_age_seconds ?? 0) + " ago)</span>"
    : '<span class="bad">upstream not reachable</span> <span class="muted">(' + esc(up.base_url) + ")</span>";
  if (up.token && up.token.state === "refused") $("upstream").innerHTML += ' <span class="bad">' + esc(up.token.message) + " (set CHUTES_API_TOKEN)</span>";
  $("streams").textContent = d.open_streams + " open streams";
  $("cost").textContent = "estimated cost so far " + usd(d.total_cost_usd);
  rows("models", d.models, (m) => [esc(m.name), m.capabilities.map((c) => '<span class="cap">' + esc(c) + "</span>").join(""),
    m.context_length ?? "—", m.pricing ? m.pricing.prompt + " / " + m.pricing.completion : "—"]);
  rows("usage", d.usage, (u) => [esc(u.model), u.tokens_in, u.tokens_out, usd(u.cost_usd)]);
  rows("recent", d.recent, (r) => [new Date(r.at).toLocaleTimeString(), esc(r.method + " " + r.route), esc(r.model || "—"),
    '<span class="' + (r.status < 400 ? "ok" : "bad") + '">' + r.status + "</span>", r.promptTokens + " / " + r.completionTokens,
    r.ttftMs === undefined || r.ttftMs === null ? "—" : Math.round(r.ttftMs) + " ms", Math.round(r.totalMs) + " ms", esc(r.id)]);
  chart(d.last_hour);
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
</script>
</body>
</html>
`;
