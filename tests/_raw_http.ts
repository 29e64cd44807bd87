/**
 * HTTP/1.1 by hand over a TCP socket, for what `fetch` will not send: a `Host` header of our
 * choosing (DNS rebinding), a body shorter than its `Content-Length`, bytes dripped slowly, a
 * connection left idle. `exchange` sends a request and reads the answer until the server closes.
 */

const encoder = new TextEncoder();

/** An answer read off the wire. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
}

/** Parses a whole HTTP/1.1 answer (chunked or not). */
export function parseAnswer(raw: string): RawAnswer {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`no complete answer head in ${JSON.stringify(raw.slice(0, 200))}`);
  const [statusLine, ...lines] = raw.slice(0, split).split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get("transfer-encoding")?.includes("chunked")) {
    let out = "";
    for (;;) {
      const eol = body.indexOf("\r\n");
      const size = parseInt(body.slice(0, eol), 16);
      if (!(size > 0)) break;
      out += body.slice(eol + 2, eol + 2 + size);
      body = body.slice(eol + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body };
}

/** True once `raw` holds a whole answer (by `Content-Length`, or the last chunk). */
function complete(raw: string): boolean {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) return false;
  const head = raw.slice(0, split).toLowerCase();
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length) return raw.length - split - 4 >= Number(length[1]);
  return /\r\ntransfer-encoding: *chunked/.test(head) && raw.endsWith("\r\n0\r\n\r\n");
}

/** Reads until a whole answer has arrived (the connection may stay open), at most `ms`. */
export async function readAnswer(conn: Deno.Conn, ms = 10_000): Promise<RawAnswer> {
  const timer = setTimeout(() => conn.close(), ms);
  const buf = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  let raw = "";
  try {
    while (!complete(raw)) {
      const n = await conn.read(buf);
      if (n === null) break;
      raw += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } catch {
    // closed by the timer: the answer is incomplete and parseAnswer says so
  } finally {
    clearTimeout(timer);
  }
  return parseAnswer(raw);
}

/** Reads everything until the peer closes (or `ms` pass, then closes itself). */
export async function readToEnd(conn: Deno.Conn, ms = 10_000): Promise<string> {
  const timer = setTimeout(() => conn.close(), ms);
  const buf = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  let out = "";
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } catch {
    // closed by the timer, or reset by the peer
  } finally {
    clearTimeout(timer);
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
  return out;
}

/** Opens a connection to `url`'s host and port (127.0.0.1 in tests). */
export function connect(url: string): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(url);
  return Deno.connect({ hostname, port: Number(port) });
}

/**
 * Sends `method path` with `headers` (`Connection: close` is added) and `body`, then reads the
 * answer. `closeWrite` half-closes after sending, as a client that gave up mid-upload does.
 */
export async function exchange(
  url: string,
  request: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    closeWrite?: boolean;
  },
): Promise<RawAnswer> {
  const conn = await connect(url);
  const head = [
    `${request.method ?? "GET"} ${request.path ?? "/"} HTTP/1.1`,
    ...Object.entries({ connection: "close", ...request.headers }).map(([k, v]) => `${k}: ${v}`),
  ].join("\r\n");
  await conn.write(encoder.encode(`${head}\r\n\r\n${request.body ?? ""}`));
  if (request.closeWrite) await conn.closeWrite();
  return parseAnswer(await readToEnd(conn));
}
