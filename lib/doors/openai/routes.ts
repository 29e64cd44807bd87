/**
 * The OpenAI door's route rows (`/v1/*`: chat completions, completions, embeddings, models) with
 * OpenAI's error shape, which the `openai` SDKs and OpenAI-compatible clients parse.
 */
import type { RouteTable } from "../../core/routes.ts";
import { handleOpenAICompletion } from "./chat.ts";
import { handleOpenAIEmbeddings } from "./embeddings.ts";
import { openAIErrorResponse } from "./errors.ts";
import { handleOpenAIModel, handleOpenAIModels } from "./models.ts";

/** The routes of the OpenAI door. */
export const OPENAI_ROUTES: RouteTable = {
  name: "openai",
  errorShape: openAIErrorResponse,
  prefixes: ["/v1/"],
  rows: [
    {
      method: "POST",
      path: "/v1/chat/completions",
      handler: (r, d, c) => handleOpenAICompletion("/chat/completions", r, d, c),
    },
    {
      method: "POST",
      path: "/v1/completions",
      handler: (r, d, c) => handleOpenAICompletion("/completions", r, d, c),
    },
    { method: "POST", path: "/v1/embeddings", handler: handleOpenAIEmbeddings },
    { method: "GET", path: "/v1/models", handler: handleOpenAIModels },
    {
      method: "GET",
      path: "/v1/models/*",
      label: "/v1/models/{id}",
      handler: (_r, d, _c, id) => handleOpenAIModel(id, d),
    },
  ],
};
