/** The proxy's own version: sent as User-Agent upstream, shown on the status page and by `--version`. */
export const PROXY_VERSION = "0.1.0";
