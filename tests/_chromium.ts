/**
 * Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools Protocol with Deno's own
 * WebSocket: open a page at a given viewport size, wait for a condition, evaluate an expression,
 * take a full-page screenshot. No npm package: the protocol calls used are few and small.
 */

/** Where Debian installs Chromium, when it is installed. */
export const CHROMIUM: string | undefined = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  },
);

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void };

/** A browser with one tab. */
export class Browser {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly socket: WebSocket,
    readonly profile: string,
    readonly stderr: Promise<void>,
    public session = "",
  ) {
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id!);
      if (message.error) pending.reject(new Error(message.error.message));
      else pending.resolve(message.result ?? {});
    };
  }

  /** Starts Chromium and opens a blank tab. */
  static async launch(): Promise<Browser> {
    if (!CHROMIUM) throw new Error("chromium is not installed");
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    const child = new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let found: (url: string) => void = () => {};
    const url = new Promise<string>((resolve) => found = resolve);
    let text = "";
    const stderr = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
        if (m) found(m[1]!);
      }
    })();
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`chromium did not start:\n${text}`)), 20_000)
    );
    let wsUrl: string;
    try {
      wsUrl = await Promise.race([url, timeout]);
    } catch (err) {
      child.kill();
      await child.status;
      await Deno.remove(profile, { recursive: true });
      throw err;
    }
    const socket = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    const browser = new Browser(child, socket, profile, stderr);
    const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
    const attached = await browser.send("Target.attachToTarget", { targetId, flatten: true });
    browser.session = String(attached.sessionId);
    return browser;
  }

  /** Sends one protocol command (to the tab once attached) and waits for its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const message = { id, method, params, ...(this.session ? { sessionId: this.session } : {}) };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify(message));
    });
  }

  /** Evaluates an expression in the page and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const out = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    const result = out.result as { value?: T };
    if (out.exceptionDetails) throw new Error(JSON.stringify(out.exceptionDetails));
    return result.value as T;
  }

  /** Loads `url` in a viewport `width`×`height` (mobile below 600 px) and waits for `ready`. */
  async open(url: string, width: number, height: number, ready: string): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: width < 600,
    });
    // A fresh document each time (the same URL with a #fragment would not reload).
    await this.send("Page.navigate", { url: "about:blank" });
    await this.send("Page.navigate", { url });
    for (let i = 0; i < 200; i++) {
      if (await this.evaluate<boolean>(ready).catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the page never became ready (${ready})`);
  }

  /** A PNG of the whole page at the current viewport width. */
  async screenshot(): Promise<Uint8Array> {
    const metrics = await this.send("Page.getLayoutMetrics");
    const size = metrics.cssContentSize as { width: number; height: number };
    const width = await this.evaluate<number>("innerWidth");
    const shot = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width, height: Math.ceil(size.height), scale: 1 },
    });
    return Uint8Array.from(atob(String(shot.data)), (c) => c.charCodeAt(0));
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    this.socket.close();
    try {
      this.child.kill();
    } catch {
      // already gone
    }
    await this.child.status;
    await this.stderr.catch(() => {});
    await Deno.remove(this.profile, { recursive: true }).catch(() => {});
  }
}
