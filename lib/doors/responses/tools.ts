/**
 * The door's tools, both ways. In: flat `function` tools; `namespace` groups, flattened so a chat
 * model can call their members (`<namespace>__<name>`, the way Codex itself names MCP tools);
 * freeform `custom` tools such as Codex's `apply_patch`, offered as a function with one string
 * argument `input` (a chat upstream has no freeform tools: forwarded as they are, the model
 * prints the patch as text and nothing is applied); hosted tools (`web_search`, …) dropped with a
 * note, since Chutes runs none. Out: `ToolNames` maps the name the model called back to the
 * client's tool, so the answer carries `namespace` apart and a custom tool's call comes back as a
 * `custom_tool_call` with the raw input.
 */
import { ProxyError } from "../../base/errors.ts";
import type { ToolChoice, ToolSpec } from "./types.ts";
import { isJsonObject } from "../../base/json.ts";

/**
 * A client-chosen name as it may appear in a note: notes travel in the `X-Proxy-Ignored-Options`
 * header, where a control or non-ASCII character would make the whole response fail.
 */
export function printable(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

function bad(message: string): ProxyError {
  return new ProxyError(400, message);
}

/** The upstream function name of a (possibly namespaced) tool. */
export function flatName(name: string, namespace?: string): string {
  return namespace ? `${namespace}__${name}` : name;
}

function oneTool(raw: Record<string, unknown>, at: string, namespace?: string): ToolSpec {
  if (typeof raw.name !== "string" || raw.name.trim() === "") {
    throw bad(`${at}.name: required, a non-empty string`);
  }
  const spec: ToolSpec = { kind: raw.type === "custom" ? "custom" : "function", name: raw.name };
  if (namespace) spec.namespace = namespace;
  if (typeof raw.description === "string" && raw.description !== "") {
    spec.description = raw.description;
  }
  if (spec.kind === "function") {
    if (raw.parameters !== undefined && raw.parameters !== null && !isJsonObject(raw.parameters)) {
      throw bad(`${at}.parameters: must be a JSON schema object`);
    }
    if (raw.parameters) spec.parameters = raw.parameters;
    if (raw.strict === true) spec.strict = true;
  } else if (isJsonObject(raw.format)) {
    spec.format = raw.format as NonNullable<ToolSpec["format"]>;
  }
  return spec;
}

/** Checks `tools`; hosted tools are left out with a note in `notes`. */
export function parseTools(value: unknown, notes: Set<string>): ToolSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad("tools: must be an array");
  const out: ToolSpec[] = [];
  value.forEach((raw, i) => {
    const at = `tools[${i}]`;
    if (!isJsonObject(raw)) throw bad(`${at}: a tool must be an object`);
    if (raw.type === "function" || raw.type === "custom") out.push(oneTool(raw, at));
    else if (raw.type === "namespace") {
      if (typeof raw.name !== "string" || raw.name.trim() === "") {
        throw bad(`${at}.name: required, a non-empty string`);
      }
      if (!Array.isArray(raw.tools)) throw bad(`${at}.tools: required, an array`);
      raw.tools.forEach((member, j) => {
        const here = `${at}.tools[${j}]`;
        if (!isJsonObject(member) || (member.type !== "function" && member.type !== "custom")) {
          throw bad(`${here}: a namespace holds function and custom tools only`);
        }
        out.push(oneTool(member, here, raw.name as string));
      });
    } else if (typeof raw.type === "string") {
      notes.add(`tools of type ${printable(raw.type)} (Chutes runs no hosted tools)`);
    } else throw bad(`${at}.type: required, a string`);
  });
  const seen = new Set<string>();
  for (const tool of out) {
    const name = flatName(tool.name, tool.namespace);
    if (seen.has(name)) throw bad(`tools: the tool name ${JSON.stringify(name)} is used twice`);
    seen.add(name);
  }
  return out;
}

function namedTool(raw: Record<string, unknown>, at: string): { name: string; namespace?: string } {
  if (typeof raw.name !== "string" || raw.name === "") throw bad(`${at}.name: required`);
  return typeof raw.namespace === "string" && raw.namespace !== ""
    ? { name: raw.name, namespace: raw.namespace }
    : { name: raw.name };
}

/** Checks `tool_choice`; forcing a hosted tool becomes `auto` with a note. */
export function parseToolChoice(value: unknown, notes: Set<string>): ToolChoice {
  if (value === undefined || value === null) return "auto";
  if (value === "auto" || value === "none" || value === "required") return value;
  if (!isJsonObject(value) || typeof value.type !== "string") {
    throw bad(`tool_choice: must be "auto", "none", "required" or an object with a type`);
  }
  if (value.type === "function" || value.type === "custom") {
    return namedTool(value, "tool_choice");
  }
  if (value.type === "allowed_tools") {
    const mode = value.mode === "required" ? "required" : "auto";
    if (!Array.isArray(value.tools)) throw bad("tool_choice.tools: required, an array");
    const allowed = value.tools.filter(isJsonObject).filter((t) => typeof t.name === "string")
      .map((t, i) => namedTool(t, `tool_choice.tools[${i}]`));
    return { mode, allowed };
  }
  notes.add(`tool_choice ${printable(value.type)} (Chutes runs no hosted tools; auto instead)`);
  return "auto";
}

/** What a name the model called stands for. */
export interface CalledTool {
  name: string;
  namespace?: string;
  custom: boolean;
}

/** Upstream function name → the client's tool. */
export type ToolNames = ReadonlyMap<string, CalledTool>;

function describeCustom(tool: ToolSpec): string {
  const lines = tool.description ? [tool.description, ""] : [];
  lines.push(
    "This proxy offers the tool as a function: pass the tool's complete raw input, exactly as " +
      "the tool expects it, as the one string argument `input`.",
  );
  const f = tool.format;
  if (f?.type === "grammar" && typeof f.definition === "string") {
    lines.push(`The input must match this ${f.syntax ?? ""} grammar:`, f.definition);
  }
  return lines.join("\n");
}

/** The upstream `tools`, `tool_choice` and the names to map calls back. */
export function toUpstreamTools(
  specs: readonly ToolSpec[],
  choice: ToolChoice,
): { tools: unknown[]; toolChoice: unknown; names: ToolNames } {
  let offered = specs;
  let upstreamChoice: unknown = typeof choice === "string" ? choice : undefined;
  if (typeof choice === "object" && "allowed" in choice) {
    const keep = new Set(choice.allowed.map((t) => flatName(t.name, t.namespace)));
    offered = specs.filter((s) => keep.has(flatName(s.name, s.namespace)));
    upstreamChoice = choice.mode;
  } else if (typeof choice === "object") {
    const name = flatName(choice.name, choice.namespace);
    if (!specs.some((s) => flatName(s.name, s.namespace) === name)) {
      throw bad(`tool_choice.name: no tool named ${JSON.stringify(name)} in tools`);
    }
    upstreamChoice = { type: "function", function: { name } };
  }
  const names = new Map<string, CalledTool>();
  const tools = offered.map((spec) => {
    const name = flatName(spec.name, spec.namespace);
    names.set(name, {
      name: spec.name,
      ...(spec.namespace ? { namespace: spec.namespace } : {}),
      custom: spec.kind === "custom",
    });
    const fn: Record<string, unknown> = { name };
    if (spec.kind === "custom") {
      fn.description = describeCustom(spec);
      fn.parameters = {
        type: "object",
        properties: { input: { type: "string", description: "The tool's raw input." } },
        required: ["input"],
        additionalProperties: false,
      };
    } else {
      if (spec.description) fn.description = spec.description;
      fn.parameters = spec.parameters ?? { type: "object", properties: {} };
      if (spec.strict) fn.strict = true;
    }
    return { type: "function", function: fn };
  });
  return { tools, toolChoice: upstreamChoice, names };
}

/** A custom tool's raw input from the function arguments the model sent. */
export function customInput(input: unknown, argumentsText: string): string {
  if (isJsonObject(input)) {
    if (typeof input.input === "string") return input.input;
    const strings = Object.values(input).filter((v): v is string => typeof v === "string");
    if (strings.length === 1) return strings[0]!;
  }
  return typeof input === "string" ? input : argumentsText;
}
