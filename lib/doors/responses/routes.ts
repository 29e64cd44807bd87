/**
 * The Responses door's route (`POST /v1/responses`, for Codex, Copilot CLI, OpenCode's
 * `@ai-sdk/openai` and the `openai` SDKs) with OpenAI's error shape. Mounted before the `/v1`
 * chat door, which owns the rest of `/v1/`.
 */
import type { RouteTable } from "../../core/routes.ts";
import { responsesErrorResponse } from "./errors.ts";
import { handleResponses } from "./handler.ts";

/** The routes of the Responses door. */
export const RESPONSES_ROUTES: RouteTable = {
  name: "responses",
  errorShape: (status, message) => responsesErrorResponse(status, message),
  prefixes: ["/v1/responses"],
  rows: [{ method: "POST", path: "/v1/responses", handler: (r, d, c) => handleResponses(r, d, c) }],
};
