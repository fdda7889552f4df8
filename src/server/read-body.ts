import type { z } from "zod";
import { InvalidRequestError, RequestTooLargeError } from "../anthropic/errors.ts";
import { scanJson } from "./json-depth.ts";
import type { RepeatedMember } from "./repeated-member.ts";

/**
 * Deepest nesting of arrays and objects a body may have. Claude Code's requests nest 10 deep
 * (tool schemas included); JSON.parse, zod and every serializer after them recurse, and a
 * 50,000-deep body overflowed the stack (a 500, then a breaker strike for everyone).
 */
export const maxJsonDepth = 128;

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Reads a JSON body within `maxBytes` and validates it, with errors a client can act on.
 * The body is returned as the client sent it, not as the schema rebuilt it: zod puts known
 * keys first, and Anthropic-wire upstreams must get the client's bytes (same key order, so
 * the same prompt-cache prefix). Hence schemas here check and never transform (input = output).
 * `certainlyValid`: a fast check that answers true only where `schema` accepts too (see
 * anthropic/request-accepts.ts); zod then runs only when it answers false, and names the problem.
 * `repeated`: a member whose value, sent again byte for byte, is taken parsed from before.
 */
export async function readJsonBody<T>(
  request: Request,
  schema: z.ZodType<T, T>,
  maxBytes: number,
  certainlyValid?: (json: unknown) => boolean,
  repeated?: RepeatedMember,
): Promise<{ body: T; text: string }> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    throw new RequestTooLargeError(`request body is ${declared} bytes; the maximum is ${maxBytes} bytes`);
  }
  const text = await request.text();
  if (text.length > maxBytes && Buffer.byteLength(text) > maxBytes) {
    throw new RequestTooLargeError(`request body exceeds the maximum of ${maxBytes} bytes`);
  }
  if (text.trim() === "") throw new InvalidRequestError("request body is empty; expected a JSON object");
  const scan = scanJson(text, maxJsonDepth, repeated?.name);
  if (scan.tooDeep) {
    throw new InvalidRequestError(`request body nests arrays and objects more than ${maxJsonDepth} levels deep`);
  }
  let json: unknown;
  try {
    json = repeated ? repeated.parse(text, scan.member) : JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidRequestError("request body must be a JSON object");
  }
  if (certainlyValid?.(json) !== true) {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new InvalidRequestError(parsed.error.issues.slice(0, 5).map(formatIssue).join("; "));
    }
  }
  // Valid, and the schema does not transform: the checked value is the sent value.
  return { body: json as T, text };
}
