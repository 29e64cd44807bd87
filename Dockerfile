# ollama-chutes-proxy on the official Deno image. Build and run (README, "Install"):
#   docker build -t ollama-chutes-proxy .
#   docker run -d --name ollama-chutes-proxy --env-file .env -p 127.0.0.1:11434:11434 \
#     -v ollama-chutes-proxy:/data ollama-chutes-proxy
# The image's entrypoint (tini, then `deno`) forwards SIGTERM, so `docker stop` gets the
# proxy's graceful shutdown; give it more than shutdown_grace_seconds (`docker stop -t 20`).

# Pinned to the Deno release the test suite runs on.
FROM denoland/deno:2.9.6

WORKDIR /app

# The sources (.dockerignore lets in nothing else: no config.json, no .env, no tests), then the
# npm packages main.ts loads, as deno.lock pins them. `deno install` is not used: it would also
# fetch deno.json's test-only packages (npm:ollama, npm:openai), which the proxy never loads.
COPY deno.json deno.lock ./
COPY main.ts ./
COPY lib/ ./lib/
RUN deno cache --frozen main.ts

# The working directory holds state: an optional config.json (mount one in) and the
# aliases.json the proxy writes. /app stays read-only for the deno user.
RUN mkdir /data && chown deno:deno /data
VOLUME /data
WORKDIR /data

USER deno

EXPOSE 11434
# Listen on every interface of the container; publish the port on 127.0.0.1 only unless
# PROXY_API_KEYS is set (see deploy/compose.yaml).
ENV OLLAMA_HOST=0.0.0.0:11434

# No curl in the image: the probe is a one-line Deno script fetching `/`, which answers
# without an access key. It reads the port from OLLAMA_HOST.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["deno", "eval", "const port = parseInt(Deno.env.get('OLLAMA_HOST')?.split(':').at(-1) ?? '') || 11434; const res = await fetch('http://127.0.0.1:' + port + '/'); Deno.exit(res.ok ? 0 : 1)"]

# The flags of `deno task start` (the V8 flag: README, "Performance").
CMD ["run", "--unstable-no-legacy-abort", "--v8-flags=--max-semi-space-size=2", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-sys=hostname", "/app/main.ts"]
