import { z } from "zod";

// Who may reach the gateway from a web browser. A page can send requests to 127.0.0.1 without
// a CORS preflight, and a DNS-rebinding page can read the answers: `Host` and `Origin` tell them
// apart from Claude Code and the SDKs, which send the gateway's own address and no Origin.

/** A comma-separated list, each entry checked by `valid`; `*` alone allows anything. */
function list(valid: (entry: string) => boolean, expected: string) {
  return z
    .string()
    .trim()
    .transform((v) => v.split(",").map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== ""))
    .refine((entries) => entries.length > 0 && entries.every((entry) => entry === "*" || valid(entry)), {
      error: `expected a comma-separated list of ${expected}, or *`,
    })
    .optional();
}

function isOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === entry;
  } catch {
    return false;
  }
}

export const browserEnv = {
  /** Host names (no port) clients may address the gateway by, beyond its bound address and loopback names. */
  LYNKR_ALLOWED_HOSTS: list((entry) => /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(entry), "host names, e.g. lynkr.internal,10.0.0.5"),
  /** Browser origins allowed to call the gateway, e.g. https://app.example.com; none by default. */
  LYNKR_ALLOWED_ORIGINS: list(isOrigin, "origins, e.g. https://app.example.com"),
};
