/**
 * The Anthropic door's route rows (`POST /v1/messages`, `POST /v1/messages/count_tokens`) with
 * Anthropic's error shape, which Claude Code and the Anthropic SDKs parse. Mounted before the
 * OpenAI door so that unknown paths under `/v1/messages` answer in this shape too.
 */
import type { RouteTable } from "../../core/routes.ts";
import { handleCountTokens } from "./count_tokens.ts";
import { anthropicErrorResponse } from "./errors.ts";
import { handleMessages, PING_MS } from "./messages.ts";

/** The routes of the Anthropic door, with `ping` events every `pingMs` before the first token. */
export function anthropicRoutes(pingMs = PING_MS): RouteTable {
  return {
    name: "anthropic",
    errorShape: anthropicErrorResponse,
    prefixes: ["/v1/messages"],
    rows: [
      {
        method: "POST",
        path: "/v1/messages",
        handler: (r, d, c) => handleMessages(r, d, c, pingMs),
      },
      { method: "POST", path: "/v1/messages/count_tokens", handler: handleCountTokens },
    ],
  };
}

/** The routes of the Anthropic door as the app mounts them. */
export const ANTHROPIC_ROUTES: RouteTable = anthropicRoutes();
