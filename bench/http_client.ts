/**
 * A minimal keep-alive HTTP/1.1 client over `Deno.connect`, for the load generator only. Each
 * `read` takes whatever the socket holds (up to 64 KiB), so a burst of token events costs one
 * read instead of one promise per event as with `fetch`: the load generator shares the
 * machine's cores with the servers it measures and must spend as little CPU as it can.
 * It understands exactly what the benchmark's servers send: a status line, headers, and a
 * chunked or `content-length` body. One request at a time per connection.
 */

const latin1 = new TextDecoder("latin1");
const CR = 13;
const LF = 10;

function indexOfCrlf(bytes: Uint8Array, from = 0): number {
  for (let i = from; i < bytes.length - 1; i++) {
    if (bytes[i] === CR && bytes[i + 1] === LF) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Builds the bytes of a `POST` with a JSON body, sent as-is on every request. */
export function postRequest(host: string, path: string, body: string): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
    `accept: */*\r\ncontent-length: ${bytes.length}\r\n\r\n`;
  return concat(new TextEncoder().encode(head), bytes);
}

/** One keep-alive connection to `hostname:port`. */
export class Http1Connection {
  readonly #hostname: string;
  readonly #port: number;
  #conn: Deno.TcpConn | undefined;
  #rest: Uint8Array = new Uint8Array(0);
  readonly #buf = new Uint8Array(64 * 1024);

  constructor(hostname: string, port: number) {
    this.#hostname = hostname;
    this.#port = port;
  }

  /** Closes the socket (aborts a request in progress); the next request reconnects. */
  close(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = undefined;
    this.#rest = new Uint8Array(0);
  }

  async #read(): Promise<Uint8Array> {
    const n = await this.#conn!.read(this.#buf);
    if (n === null) throw new Error("connection closed by the server");
    return this.#buf.slice(0, n);
  }

  /**
   * Sends `request` and hands each piece of the response body to `onBody` as it arrives.
   * Resolves with the status once the body is complete. A reused connection the server had
   * already closed is reopened once.
   */
  async send(request: Uint8Array, onBody: (bytes: Uint8Array) => void): Promise<number> {
    const reused = this.#conn !== undefined;
    this.#conn ??= await Deno.connect({ hostname: this.#hostname, port: this.#port });
    try {
      await this.#conn.write(request);
      this.#rest = await this.#read();
    } catch (err) {
      this.close();
      if (!reused) throw err;
      this.#conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
      await this.#conn.write(request);
      this.#rest = await this.#read();
    }
    try {
      return await this.#response(onBody);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  async #response(onBody: (bytes: Uint8Array) => void): Promise<number> {
    let data = this.#rest;
    let end: number;
    while ((end = headEnd(data)) < 0) data = concat(data, await this.#read());
    const head = latin1.decode(data.subarray(0, end));
    data = data.subarray(end + 4);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      data = await this.#chunked(data, onBody);
    } else {
      let remaining = Number(length ?? 0);
      while (remaining > 0) {
        if (data.length === 0) data = await this.#read();
        const take = Math.min(remaining, data.length);
        onBody(data.subarray(0, take));
        data = data.subarray(take);
        remaining -= take;
      }
    }
    this.#rest = data;
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    return status;
  }

  async #chunked(start: Uint8Array, onBody: (bytes: Uint8Array) => void): Promise<Uint8Array> {
    let data = start;
    for (;;) {
      let lineEnd: number;
      while ((lineEnd = indexOfCrlf(data)) < 0) data = concat(data, await this.#read());
      const size = parseInt(latin1.decode(data.subarray(0, lineEnd)), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size in response");
      data = data.subarray(lineEnd + 2);
      let remaining = size;
      while (remaining > 0) {
        if (data.length === 0) data = await this.#read();
        const take = Math.min(remaining, data.length);
        onBody(data.subarray(0, take));
        data = data.subarray(take);
        remaining -= take;
      }
      // Each chunk (and the last, empty one, sent without trailers) ends with CRLF.
      while (data.length < 2) data = concat(data, await this.#read());
      data = data.subarray(2);
      if (size === 0) return data;
    }
  }
}

function headEnd(bytes: Uint8Array): number {
  for (let i = indexOfCrlf(bytes); i >= 0; i = indexOfCrlf(bytes, i + 2)) {
    if (bytes[i + 2] === CR && bytes[i + 3] === LF) return i;
  }
  return -1;
}
