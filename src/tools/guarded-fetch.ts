import { isIPv6 } from "node:net";
import { checkedAddress, systemGuard, type AddressGuard } from "./address-guard.ts";

// fetch for URLs an outsider chose (web_fetch pages, a request's own MCP servers): every request
// resolves its host once, checks every address, and connects to the checked address itself, with
// the URL's Host header and TLS server name, so a DNS answer that changes between the check and
// the connection (rebinding) cannot reach a private address. Redirects are never left to fetch:
// with `redirect: "manual"` the caller gets them, otherwise each hop is checked here again.

type FetchLike = (url: string | URL, init?: BunFetchRequestInit) => Promise<Response>;

const maxRedirects = 5;

/** One exchange with `url`'s server at `address`. */
function fetchAt(url: URL, address: string, init: BunFetchRequestInit | undefined): Promise<Response> {
  const target = new URL(url);
  target.hostname = isIPv6(address) ? `[${address}]` : address;
  const headers = new Headers(init?.headers);
  headers.set("host", url.host);
  // Bun checks the certificate against serverName (and sends it as SNI), not the IP in the URL.
  const tls = url.protocol === "https:" ? { tls: { ...init?.tls, serverName: url.hostname } } : {};
  return fetch(target, { ...init, headers, redirect: "manual", ...tls });
}

/** The request a redirect asks for: 301/302/303 turn anything but GET/HEAD into a bodiless GET. */
function redirectedInit(status: number, init: BunFetchRequestInit | undefined): BunFetchRequestInit | undefined {
  const method = (init?.method ?? "GET").toUpperCase();
  if (status === 307 || status === 308 || method === "GET" || method === "HEAD") return init;
  const headers = new Headers(init?.headers);
  headers.delete("content-type");
  headers.delete("content-length");
  const { body: _body, ...rest } = init ?? {};
  return { ...rest, method: "GET", headers };
}

export function guardedFetch(guard: AddressGuard = systemGuard): FetchLike {
  return async (input, init) => {
    let url = new URL(input);
    let request = init;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`only http and https URLs are fetched, not ${url.protocol}`);
      const response = await fetchAt(url, await checkedAddress(url.hostname, guard), request);
      const location = response.headers.get("location");
      if (init?.redirect === "manual" || response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      if (init?.redirect === "error") throw new Error(`${url.href} redirected`);
      if (hop >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects from ${new URL(input).href}`);
      const next = new URL(location, url);
      // Credentials go to the origin they were given for, never to where it redirects.
      if (next.origin !== url.origin && request?.headers) {
        const headers = new Headers(request.headers);
        headers.delete("authorization");
        headers.delete("cookie");
        request = { ...request, headers };
      }
      request = redirectedInit(response.status, request);
      url = next;
    }
  };
}
