/**
 * Pure views of one upstream model in Ollama's shapes: the `/api/tags` entry, the `/api/show`
 * body and the `details` object they share. Chutes does not publish a family, size or digest,
 * so they are derived from the model id (documented in README: family and parameter size from
 * the name, size estimated from parameters × bytes per weight, digest = sha256 of the id).
 */
import type { UpstreamModel } from "../upstream/wire.ts";

/** Ollama's `details` object; all six keys are always present (Zed and OllamaKit require them). */
export interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
  context_length?: number;
}

/** Everything the views need about one listed model, computed once per catalogue refresh. */
export interface ModelFacts {
  /** Listed name with its tag, e.g. `Qwen/Qwen3-32B-TEE:latest`. */
  name: string;
  /** Id sent upstream. */
  upstreamId: string;
  digest: string;
  modifiedAt: string;
  size: number;
  details: ModelDetails;
  capabilities: string[];
  /** True when the upstream reported `supported_features`, so missing capabilities are real. */
  featuresKnown: boolean;
  contextLength: number | undefined;
  /** Longest answer the upstream allows (`max_output_length`), when it says. */
  maxOutputTokens: number | undefined;
  /** Which upstream serves the model: 0 is the primary (Chutes), then config `upstreams`. */
  upstreamIndex: number;
  /** USD per million tokens, from Chutes' `pricing` (numbers or numeric strings), when listed. */
  pricing: { prompt: number; completion: number } | undefined;
}

function pricingOf(model: UpstreamModel | undefined): ModelFacts["pricing"] {
  const raw = model?.pricing;
  const prompt = Number(raw?.prompt);
  const completion = Number(raw?.completion);
  return raw && Number.isFinite(prompt) && Number.isFinite(completion)
    ? { prompt, completion }
    : undefined;
}

/** The family (architecture) guessed from the id: `Qwen/Qwen3-32B` → `qwen3`. */
export function familyOf(id: string): string {
  const base = (id.split("/").pop() ?? id).toLowerCase();
  return /^[a-z][a-z0-9]*/.exec(base)?.[0] ?? "transformer";
}

/** The parameter size named in the id (`235B`, `0.6B`, `17B`), or `""`. */
export function parameterSizeOf(id: string): string {
  const m = /(?:^|[-_/])(\d+(?:\.\d+)?)([bm])(?=$|[-_:])/i.exec(id);
  return m ? `${m[1]}${m[2]!.toUpperCase()}` : "";
}

function bytesPerWeight(quantization: string): number {
  const q = quantization.toLowerCase();
  if (/(^|[^0-9])(4|fp4|int4|awq|gptq|nvfp4)/.test(q)) return 0.5;
  if (/fp8|int8|8bit|q8/.test(q)) return 1;
  return 2;
}

/** Estimated weight size in bytes from the parameter size and quantization; 0 when unknown. */
export function estimateSize(parameterSize: string, quantization: string): number {
  const m = /^(\d+(?:\.\d+)?)([BM])$/.exec(parameterSize);
  if (!m) return 0;
  const params = Number(m[1]) * (m[2] === "B" ? 1e9 : 1e6);
  return Math.round(params * bytesPerWeight(quantization));
}

/** Capabilities in Ollama's vocabulary from Chutes' `supported_features` and modalities. */
export function capabilitiesOf(model: UpstreamModel | undefined): string[] {
  const features = model?.supported_features ?? [];
  const caps = ["completion"];
  if (features.includes("tools")) caps.push("tools");
  if (model?.input_modalities?.includes("image")) caps.push("vision");
  if (features.includes("reasoning") || features.includes("thinking")) caps.push("thinking");
  return caps;
}

/** Builds the facts for one model (`digest` is supplied by the caller, which can hash async). */
export function modelFacts(
  name: string,
  upstreamId: string,
  model: UpstreamModel | undefined,
  digest: string,
  fallbackTime: string,
): ModelFacts {
  const quantization =
    (model?.quantization ?? /fp8|fp4|bf16|int4|int8|awq/i.exec(upstreamId)?.[0] ?? "")
      .toUpperCase();
  const parameterSize = parameterSizeOf(model?.root ?? upstreamId) || parameterSizeOf(upstreamId);
  const family = familyOf(model?.root ?? upstreamId);
  const contextLength = model?.context_length ?? model?.max_model_len;
  // Chutes lists no embedding models; one reached through an alias is known by its name.
  const embedding = !model && /embed/i.test(upstreamId);
  const details: ModelDetails = {
    parent_model: "",
    format: "safetensors",
    family,
    families: [family],
    parameter_size: parameterSize,
    quantization_level: quantization,
  };
  if (contextLength) details.context_length = contextLength;
  return {
    name,
    upstreamId,
    digest,
    modifiedAt: model?.created ? new Date(model.created * 1000).toISOString() : fallbackTime,
    size: estimateSize(parameterSize, quantization),
    details,
    capabilities: embedding ? ["embedding"] : capabilitiesOf(model),
    featuresKnown: embedding ||
      (Array.isArray(model?.supported_features) && model.supported_features.length > 0),
    contextLength,
    maxOutputTokens: model?.max_output_length,
    upstreamIndex: (model as { upstream_index?: number } | undefined)?.upstream_index ?? 0,
    pricing: pricingOf(model),
  };
}

/** The `/api/tags` entry. */
export function tagsEntry(f: ModelFacts): Record<string, unknown> {
  return {
    name: f.name,
    model: f.name,
    modified_at: f.modifiedAt,
    size: f.size,
    digest: f.digest,
    details: f.details,
    capabilities: f.capabilities,
  };
}

const pad = (key: string) => key.padEnd(30, " ");

/** The `/api/show` body. `basename` is what Copilot displays (it sends the requested name). */
export function showBody(
  f: ModelFacts,
  basename: string,
  stops: readonly string[],
): Record<string, unknown> {
  const arch = f.details.family;
  const modelInfo: Record<string, unknown> = {
    "general.architecture": arch,
    "general.basename": basename,
  };
  if (f.contextLength) modelInfo[`${arch}.context_length`] = f.contextLength;
  const pairs: [string, string][] = [
    ...(f.contextLength ? [["num_ctx", String(f.contextLength)] as [string, string]] : []),
    ...stops.map((s): [string, string] => ["stop", JSON.stringify(s)]),
  ];
  const parameters = pairs.map(([k, v]) => `${pad(k)}${v}`).join("\n");
  const tools = f.capabilities.includes("tools");
  const template = [
    "{{- if .System }}<|system|>{{ .System }}{{ end }}",
    ...(tools ? ["{{- if .Tools }}<|tools|>{{ range .Tools }}{{ json . }}{{ end }}{{ end }}"] : []),
    "{{- range .Messages }}<|{{ .Role }}|>{{ .Content }}{{ end }}<|assistant|>",
  ].join("\n");
  return {
    license: "",
    modelfile:
      `# Modelfile generated by "ollama show"\n# Served by Chutes.ai through ollama-chutes-proxy\n` +
      `FROM ${f.upstreamId}\n${pairs.map(([k, v]) => `PARAMETER ${k} ${v}\n`).join("")}`,
    parameters,
    template,
    details: f.details,
    model_info: modelInfo,
    capabilities: f.capabilities,
    modified_at: f.modifiedAt,
  };
}
