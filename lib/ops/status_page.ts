/**
 * The status page (`GET /ui`): one static HTML document with inline CSS and script and no
 * external assets, embedded as a module so a compiled binary carries it. At the top, five cards
 * answer the daily questions at a glance: is the upstream reachable, is the token valid, how
 * much quota is left and when it resets, which models are warm, what failed in the last hour
 * and why. Below: the chart of tokens and errors per minute, the models with their warmth,
 * usage today / this week / this month (persisted), and the recent requests with the reason
 * of every failure. It reads at 390 px (tables become stacked rows) and at 1280 px; the script
 * (status_script.ts) fetches `/ui/data` every 10 s, sending `#key=<proxy key>` as a bearer token.
 */
import { STATUS_SCRIPT } from "./status_script.ts";

const STYLE = `
  :root { --fg: #1d2433; --muted: #5d6b82; --line: #e4e7ec; --in: #7aa2f7; --out: #3451b2;
    --err: #c0271b; --ok: #067647; --warn: #a15c07; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
    margin: 0; background: var(--bg); }
  header { background: #fff; border-bottom: 1px solid var(--line); padding: 12px 20px;
    display: flex; gap: 6px 20px; align-items: baseline; flex-wrap: wrap; }
  h1 { font-size: 18px; margin: 0; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  main { padding: 16px 20px; display: grid; gap: 14px; max-width: 1400px; margin: 0 auto;
    grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
    padding: 12px 14px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  .cards { grid-column: 1 / -1; display: grid; gap: 12px;
    grid-template-columns: repeat(auto-fit, minmax(min(100%, 220px), 1fr)); }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px;
    min-width: 0; overflow-wrap: anywhere; }
  .any { overflow-wrap: anywhere; }
  .card h2 { font-size: 13px; color: var(--muted); font-weight: 600; margin: 0 0 4px;
    text-transform: uppercase; letter-spacing: .03em; }
  .big { font-size: 17px; font-weight: 600; }
  .small, .muted { color: var(--muted); } .small { font-size: 13px; }
  .ok { color: var(--ok); } .bad { color: var(--err); } .warn { color: var(--warn); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
    vertical-align: top; overflow-wrap: break-word; }
  th { color: var(--muted); font-weight: 600; font-size: 13px; }
  td.num, th.num, td.nw, th.nw { white-space: nowrap; }
  td.num, th.num { text-align: right; }
  .acct td:first-child { width: 120px; color: var(--muted); }
  .cap { display: inline-block; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 4px;
    background: #eef2ff; font-size: 12px; }
  .pill { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px;
    font-weight: 600; }
  .pill.hot { background: #dcfae6; color: var(--ok); }
  .pill.warming { background: #fef0c7; color: var(--warn); }
  .pill.cold { background: #eaecf0; color: var(--muted); }
  .legend span { margin-right: 12px; font-size: 13px; }
  .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
  svg { display: block; width: 100%; height: auto; }
  ul.reasons { margin: 4px 0 0; padding-left: 18px; font-size: 13px; }
  @media (max-width: 640px) { header { padding: 10px 12px; } main { padding: 10px; gap: 10px; } }
  @media (max-width: 900px) {
    table.stack thead { display: none; }
    table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: 6px 0; }
    table.stack td { display: flex; gap: 10px; border: 0; padding: 2px 4px; text-align: left; }
    table.stack td.num, table.stack td.nw { white-space: normal; text-align: left; }
    .acct td:first-child { width: auto; }
    table.acct td { display: block; } table.acct td::before { content: none; }
    table.acct td:first-child { font-weight: 600; color: var(--fg); }
    table.stack td::before { content: attr(data-label); flex: 0 0 88px; color: var(--muted);
      font-size: 13px; }
  }
`;

/** The page's HTML. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ollama-chutes-proxy status</title>
<link rel="icon" href="/favicon.ico">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>ollama-chutes-proxy</h1>
  <span id="uptime" class="muted">loading…</span>
  <span id="streams" class="muted"></span>
</header>
<main>
  <div class="cards">
    <div class="card" id="card-upstream"><h2>Upstream</h2><div class="big">…</div></div>
    <div class="card" id="card-token"><h2>Token</h2><div class="big">…</div></div>
    <div class="card" id="card-quota"><h2>Quota</h2><div class="big">…</div></div>
    <div class="card" id="card-warm"><h2>Warm models</h2><div class="big">…</div></div>
    <div class="card" id="card-errors"><h2>Errors, last hour</h2><div class="big">…</div></div>
  </div>
  <section class="wide" id="account"><h2>Chutes account</h2><div></div></section>
  <section class="wide">
    <h2>Tokens and errors, last hour</h2>
    <div class="legend"><span><i style="background:var(--in)"></i>tokens in</span><span><i style="background:var(--out)"></i>tokens out</span><span><i style="background:var(--err)"></i>errors</span></div>
    <svg id="chart" viewBox="0 0 960 220" role="img" aria-label="tokens and errors per minute"></svg>
  </section>
  <section><h2>Models</h2><table id="models" class="stack"><thead><tr><th>Model</th><th>Warmth</th><th>Capabilities</th><th class="num">Context</th><th class="num">$ / M in / out</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Usage</h2><table id="usage" class="stack"><thead><tr><th>Period</th><th class="num">Requests</th><th class="num">Errors</th><th class="num">Tokens in / out</th><th class="num">Cost (est.)</th></tr></thead><tbody></tbody></table>
    <div id="usage-split" class="small"></div></section>
  <section class="wide"><h2>Recent requests</h2><table id="recent" class="stack"><thead><tr><th class="nw">Time</th><th>Request</th><th>Model</th><th>Key</th><th class="nw">Status</th><th>Reason</th><th class="num">Tokens</th><th class="num">TTFT</th><th class="num">Total</th><th class="nw">Id</th></tr></thead><tbody></tbody></table></section>
</main>
<script>${STATUS_SCRIPT}</script>
</body>
</html>
`;
