/**
 * The Ollama door's route rows (`/`, `/api/*`) with Ollama's error shape, `{"error": "..."}`,
 * which every Ollama client JSON-parses.
 */
import { errorResponse, jsonResponse } from "../../base/errors.ts";
import type { RouteTable } from "../../core/routes.ts";
import { handleCompletion } from "./chat.ts";
import { handleEmbed, handleEmbeddings } from "./embed.ts";
import {
  handleBlob,
  handleCopy,
  handleCreate,
  handleDelete,
  handlePull,
  handlePush,
} from "./manage.ts";
import { handleShow, handleTags } from "./models.ts";

const TEXT_PLAIN = { "content-type": "text/plain; charset=utf-8" };

/** The routes of the Ollama door. */
export const OLLAMA_ROUTES: RouteTable = {
  name: "ollama",
  errorShape: errorResponse,
  prefixes: ["/"],
  rows: [
    {
      method: "GET",
      path: "/",
      handler: () => new Response("Ollama is running", { headers: TEXT_PLAIN }),
    },
    {
      method: "GET",
      path: "/api/version",
      handler: (_r, d) => jsonResponse({ version: d.config.ollama_version }),
    },
    { method: "GET", path: "/api/tags", handler: handleTags },
    { method: "POST", path: "/api/show", handler: handleShow },
    { method: "GET", path: "/api/ps", handler: (_r, d) => jsonResponse(d.running.body()) },
    { method: "POST", path: "/api/chat", handler: (r, d, c) => handleCompletion("chat", r, d, c) },
    {
      method: "POST",
      path: "/api/generate",
      handler: (r, d, c) => handleCompletion("generate", r, d, c),
    },
    { method: "POST", path: "/api/embed", handler: handleEmbed },
    { method: "POST", path: "/api/embeddings", handler: handleEmbeddings },
    { method: "POST", path: "/api/pull", handler: handlePull },
    { method: "POST", path: "/api/push", handler: handlePush },
    { method: "POST", path: "/api/create", handler: handleCreate },
    { method: "POST", path: "/api/copy", handler: handleCopy },
    { method: "DELETE", path: "/api/delete", handler: handleDelete },
    {
      method: "HEAD",
      path: "/api/blobs/*",
      label: "/api/blobs/{digest}",
      handler: (r, _d, _c, digest) => handleBlob(digest, r),
    },
    {
      method: "POST",
      path: "/api/blobs/*",
      label: "/api/blobs/{digest}",
      handler: (r, _d, _c, digest) => handleBlob(digest, r),
    },
  ],
};
