/**
 * The status page in a real headless Chromium at a phone's width (390 px) and a laptop's
 * (1280 px), with realistic data (an account, warm and cold models, failures with long reasons,
 * a named key): no sideways scroll (`scrollWidth <= innerWidth`), no box whose content is wider
 * than the box, no cell outside the viewport, no text under 12 px, chart labels at their nominal
 * size, and the five at-a-glance cards filled in. The full-page screenshots are kept as
 * tests/output/ui-390.png and ui-1280.png (ignored by git; CI keeps them as artefacts).
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy, type TestProxy } from "../_helpers.ts";
import { Browser, CHROMIUM } from "../_chromium.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const KEY = "ui-layout-test-key-made-up-0123456789";
const OUTPUT = new URL("../output/", import.meta.url);

async function traffic(p: TestProxy): Promise<void> {
  const auth = { headers: { authorization: `Bearer ${KEY}` } };
  const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }] };
  for (const words of [["Hello", " there"], ["A", " longer", " answer", " here"]]) {
    p.upstream.enqueue(CHAT, { pieces: textStream(words) });
    await ndjson(await post(p, "/api/chat", ask, auth));
  }
  p.upstream.enqueue(CHAT, {
    status: 503,
    json: {
      detail: "No instances available (yet) for chute_id='7d1f0b4e-0000-4000-8000-000000000001', " +
        "please try again later or pick another model from https://chutes.ai/app",
    },
  });
  await (await post(p, "/api/chat", ask, auth)).body?.cancel();
  p.upstream.enqueue(CHAT, {
    pieces: [...sse([chunk({ content: "par" })], { done: false }), '{"error": "CUDA error"}\n'],
  });
  await ndjson(await post(p, "/api/chat", ask, auth));
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  await (await post(p, CHAT, { ...ask, stream: true }, auth)).text();
  for (let i = 0; i < 100 && p.deps.metrics.recent().length < 5; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  overflowing: string[];
  outside: string[];
  small: string[];
  chartScale: number;
  cards: Record<string, string>;
}

const MEASURE = `(() => {
  const name = (el) => el.id || (el.className && String(el.className)) || el.tagName;
  const overflowing = [...document.querySelectorAll("header, main, section, .card, table")]
    .filter((el) => el.scrollWidth > el.clientWidth + 1).map(name);
  const outside = [...document.querySelectorAll("th, td, .card, section, h1, h2")]
    .filter((el) => el.getClientRects().length > 0)
    .filter((el) => { const r = el.getBoundingClientRect(); return r.right > innerWidth + 1 || r.left < -1; })
    .map(name);
  const small = [...document.querySelectorAll("body *")]
    .filter((el) => !(el instanceof SVGElement) && el.getClientRects().length > 0)
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== ""))
    .filter((el) => parseFloat(getComputedStyle(el).fontSize) < 12)
    .map((el) => name(el) + " " + getComputedStyle(el).fontSize);
  const svg = document.getElementById("chart");
  const chartScale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const cards = Object.fromEntries([...document.querySelectorAll(".card")]
    .map((c) => [c.id, c.querySelector(".big").textContent]));
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth, overflowing, outside,
    small, chartScale, cards };
})()`;

// Needs Debian's chromium; .ci/run installs it and sets REQUIRE_CHROMIUM=1, so CI never skips it.
Deno.test({
  name: "/ui at 390 px and 1280 px: no sideways scroll, nothing clipped, legible; screenshots kept",
  ignore: !CHROMIUM && !Deno.env.get("REQUIRE_CHROMIUM"),
  fn: async () => {
    assert.ok(CHROMIUM, "chromium is not installed (.ci/run installs Debian's chromium package)");
    const prefix = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(KEY));
    const hex = [...new Uint8Array(prefix)].map((b) => b.toString(16).padStart(2, "0")).join("");
    await using p = startProxy({
      config: {
        api_keys: [KEY],
        key_names: { "laptop-open-webui": hex.slice(0, 8) },
        retry_attempts: 1,
      },
    });
    await traffic(p);
    await Deno.mkdir(OUTPUT, { recursive: true });
    const browser = await Browser.launch();
    try {
      // 390 (a phone) and 1280 (a laptop), as asked; 800 (a tablet) where tables start to stack.
      for (const [width, height] of [[390, 844], [800, 1000], [1280, 900]] as const) {
        await browser.open(
          `${p.url}/ui#key=${KEY}`,
          width,
          height,
          'document.body.dataset.loaded === "true"',
        );
        const layout = await browser.evaluate<Layout>(MEASURE);
        const at = `at ${width} px`;
        assert.equal(layout.innerWidth, width, at);
        assert.ok(
          layout.scrollWidth <= layout.innerWidth,
          `${at}: scrollWidth ${layout.scrollWidth} > innerWidth ${layout.innerWidth}`,
        );
        assert.deepEqual(layout.overflowing, [], `${at}: content wider than its box`);
        assert.deepEqual(layout.outside, [], `${at}: cells outside the viewport`);
        assert.deepEqual(layout.small, [], `${at}: text under 12 px`);
        assert.ok(
          Math.abs(layout.chartScale - 1) < 0.05,
          `${at}: chart scaled ${layout.chartScale}`,
        );
        assert.deepEqual(layout.cards, {
          "card-upstream": "upstream reachable",
          "card-token": "token valid",
          "card-quota": "$7.13 left (4 h)",
          "card-warm": "1 hot of 4",
          "card-errors": "2",
        });
        const png = await browser.screenshot();
        assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
        const view = new DataView(png.buffer, png.byteOffset);
        assert.equal(view.getUint32(16), width, `${at}: screenshot width`);
        if (width !== 800) await Deno.writeFile(new URL(`ui-${width}.png`, OUTPUT), png);
      }
      const text = await browser.evaluate<string>("document.body.innerText");
      for (
        const expected of [
          "No instances available (yet)",
          "CUDA error",
          "laptop-open-webui",
          "fetched",
          "120 / 5,000 requests",
        ]
      ) {
        assert.ok(text.includes(expected), `the page lacks ${expected}`);
      }
      assert.ok(!text.includes(KEY), "the key is shown on the page");
    } finally {
      await browser.close();
    }
  },
});
