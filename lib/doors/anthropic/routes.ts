/**
 * The Anthropic door's route rows (`POST /v1/messages`, `POST /v1/messages/count_tokens`) with
 * Anthropic's error shape, which Claude Code and the Anthropic SDKs parse. Mounted before the
 * OpenAI door so that unknown paths under `/v1/messages` answer in this shape too.
 */
import type { RouteTable } from "../../core/routes.ts";
import { handleCountTokens } from "./count_tokens.ts";
import { anthropicErrorResponse } from "./errors.ts";
import { handleMessages } from "./messages.ts";

/** The routes of the Anthropic door. */
export const ANTHROPIC_ROUTES: RouteTable = {
  name: "anthropic",
  errorShape: anthropicErrorResponse,
  prefixes: ["/v1/messages"],
  rows: [
    { method: "POST", path: "/v1/messages", handler: handleMessages },
    { method: "POST", path: "/v1/messages/count_tokens", handler: handleCountTokens },
  ],
};
