import { BlockedAddressError, type AddressGuard } from "./address-guard.ts";
import { domainAllowed, type DomainFilter } from "./domains.ts";
import { guardedFetch } from "./guarded-fetch.ts";
import { htmlTitle, htmlToMarkdown } from "./html-markdown.ts";
import { readCapped } from "./read-capped.ts";

// web_fetch for backends that cannot run Anthropic's: fetch one page, follow redirects by hand
// (each hop's host checked again, and connected to the very address checked), read at most
// WEB_FETCH_MAX_BYTES, hand the model Markdown.

export interface WebFetchSettings {
  allowPrivate: boolean;
  maxBytes: number;
  maxChars: number;
  /** Name resolution and the private-address test (the system's when absent). */
  guard?: AddressGuard;
}

/** Anthropic's web_fetch_tool_result_error codes this emulation produces. */
type WebFetchErrorCode = "invalid_tool_input" | "url_too_long" | "url_not_allowed" | "url_not_accessible" | "unsupported_content_type";

export type WebFetchOutcome =
  | { ok: true; url: string; title: string | undefined; text: string; mediaType: string; retrievedAt: string; truncated: boolean }
  | { ok: false; errorCode: WebFetchErrorCode; detail: string };

const maxRedirects = 5;
const maxUrlLength = 2000;
const textTypes = /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json)|image\/svg\+xml)/;

function fail(errorCode: WebFetchErrorCode, detail: string): WebFetchOutcome {
  return { ok: false, errorCode, detail };
}

export async function webFetch(rawUrl: string, filter: DomainFilter & { maxChars?: number }, settings: WebFetchSettings, signal: AbortSignal): Promise<WebFetchOutcome> {
  if (rawUrl.length > maxUrlLength) return fail("url_too_long", `URL longer than ${maxUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return fail("invalid_tool_input", `not a URL: ${rawUrl.slice(0, 200)}`);
  }
  // Every hop goes through the guard: resolved once, checked, connected to the checked address.
  const send = settings.allowPrivate ? fetch : guardedFetch(settings.guard);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") return fail("invalid_tool_input", `only http and https URLs can be fetched, not ${url.protocol}`);
    if (url.username || url.password) return fail("url_not_allowed", "URLs with credentials are not fetched");
    if (!domainAllowed(url.hostname, filter)) return fail("url_not_allowed", `${url.hostname} is not allowed by this tool's allowed_domains/blocked_domains`);
    let response: Response;
    try {
      response = await send(url, { redirect: "manual", signal, headers: { "user-agent": "lynkr-web-fetch", accept: "text/html, text/*;q=0.9, */*;q=0.5" } });
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof BlockedAddressError) return fail("url_not_allowed", error.message);
      return fail("url_not_accessible", `${url.host}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= maxRedirects) return fail("url_not_accessible", `more than ${maxRedirects} redirects`);
      url = new URL(location, url);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      return fail("url_not_accessible", `${url.href} answered HTTP ${response.status}`);
    }
    const mediaType = (response.headers.get("content-type") ?? "text/plain").split(";")[0]?.trim().toLowerCase() ?? "text/plain";
    if (!textTypes.test(mediaType)) {
      await response.body?.cancel();
      return fail("unsupported_content_type", `${mediaType} is not a text page`);
    }
    const { bytes, truncated: cut } = await readCapped(response, settings.maxBytes);
    const body = new TextDecoder().decode(bytes);
    const html = mediaType === "text/html" || mediaType === "application/xhtml+xml";
    let text = html ? htmlToMarkdown(body) : body;
    const maxChars = Math.min(settings.maxChars, filter.maxChars ?? Number.MAX_SAFE_INTEGER);
    const truncated = cut || text.length > maxChars;
    if (text.length > maxChars) text = text.slice(0, maxChars);
    if (truncated) text += `\n\n[page truncated by lynkr: the rest was not fetched]`;
    return { ok: true, url: url.href, title: html ? htmlTitle(body) : undefined, text, mediaType: "text/plain", retrievedAt: new Date().toISOString(), truncated };
  }
}
