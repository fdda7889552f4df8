import { afterAll, beforeAll, expect, test } from "bun:test";
import { isPrivateAddress, systemGuard, type AddressGuard } from "../../src/tools/address-guard.ts";
import { webFetch, type WebFetchSettings } from "../../src/tools/web-fetch.ts";

// web_fetch emulation: a loopback page fetched and turned into Markdown (private addresses
// allowed for the test), private addresses refused without the flag (directly and behind a
// redirect), oversize pages truncated.

const never = new AbortController().signal;
const page = `<html><head><title>Lynkr notes</title><style>p{color:red}</style></head><body><h1>Release notes</h1><p>Lynkr now runs <b>web_fetch</b> itself.</p><script>alert(1)</script></body></html>`;
let server: ReturnType<typeof Bun.serve>;
let base: string;

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/page") return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
      if (path === "/big") return new Response(`<p>${"lynkr ".repeat(200_000)}</p>`, { headers: { "content-type": "text/html" } });
      if (path === "/to-private") return new Response(null, { status: 302, headers: { location: `http://localhost:${server.port}/page` } });
      if (path === "/loop") return Response.redirect(`${base}/loop`, 302);
      if (path === "/binary") return new Response(new Uint8Array([0, 1, 2]), { headers: { "content-type": "application/octet-stream" } });
      return new Response("missing", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const open: WebFetchSettings = { allowPrivate: true, maxBytes: 2 * 1024 * 1024, maxChars: 100_000 };
const guarded: WebFetchSettings = { ...open, allowPrivate: false };

test("a loopback page, allowed by WEB_FETCH_ALLOW_PRIVATE, comes back as Markdown with its title", async () => {
  const outcome = await webFetch(`${base}/page`, {}, open, never);
  expect(outcome.ok).toBe(true);
  if (!outcome.ok) return;
  expect(outcome.title).toBe("Lynkr notes");
  expect(outcome.text).toContain("# Release notes");
  expect(outcome.text).toContain("Lynkr now runs **web\\_fetch** itself.");
  expect(outcome.text).toStartWith("# Release notes");
  expect(outcome.text).not.toContain("alert(1)");
  expect(outcome.text).not.toContain("color:red");
  expect(outcome.truncated).toBe(false);
});

test("without the flag a loopback address is refused", async () => {
  const outcome = await webFetch(`${base}/page`, {}, guarded, never);
  expect(outcome).toMatchObject({ ok: false, errorCode: "url_not_allowed" });
  if (!outcome.ok) expect(outcome.detail).toContain("127.0.0.1");
});

/** 127.0.0.2 plays a public address in these tests (loopback answers on all of 127/8): no test leaves the machine. */
const stagePublic = "127.0.0.2";
const isBlocked = (address: string) => address !== stagePublic && isPrivateAddress(address);

test("a redirect to a private address is refused: every hop is checked", async () => {
  const first = Bun.serve({ hostname: stagePublic, port: 0, fetch: () => new Response(null, { status: 302, headers: { location: `http://localhost:${server.port}/page` } }) });
  try {
    const outcome = await webFetch(`http://${stagePublic}:${first.port}/`, {}, { ...guarded, guard: { resolve: systemGuard.resolve, isBlocked } }, never);
    expect(outcome).toMatchObject({ ok: false, errorCode: "url_not_allowed" });
    if (!outcome.ok) expect(outcome.detail).toContain("localhost");
  } finally {
    first.stop(true);
  }
  // The same redirect with the flag set is followed.
  expect((await webFetch(`${base}/to-private`, {}, open, never)).ok).toBe(true);
});

/** A DNS server under the attacker's control: a public answer for the check, loopback for any later look-up. */
function rebindingGuard(): AddressGuard & { lookups: number } {
  const guard = {
    lookups: 0,
    isBlocked,
    resolve: async () => (guard.lookups++ === 0 ? [stagePublic] : ["127.0.0.1"]),
  };
  return guard;
}

test("DNS rebinding cannot reach a private address: the connection goes to the address that was checked", async () => {
  // The same port on both addresses: the "public" host, and the private one a second look-up would give.
  const inside: string[] = [];
  const outside = Bun.serve({ hostname: stagePublic, port: 0, fetch: (req) => new Response(`<p>public page for ${req.headers.get("host")}</p>`, { headers: { "content-type": "text/html" } }) });
  const privateSide = Bun.serve({ hostname: "127.0.0.1", port: outside.port, fetch: (req) => (inside.push(req.url), new Response("<p>private page</p>", { headers: { "content-type": "text/html" } })) });
  try {
    const guard = rebindingGuard();
    const outcome = await webFetch(`http://localhost:${outside.port}/page`, {}, { ...guarded, guard }, never);
    expect(outcome.ok && outcome.text).toBe(`public page for localhost:${outside.port}`);
    expect(guard.lookups).toBe(1);
    expect(inside).toEqual([]);
    // A redirect to the same name is a new connection: looked up again (now private) and refused.
    const again = rebindingGuard();
    const hop = Bun.serve({ hostname: stagePublic, port: 0, fetch: () => new Response(null, { status: 302, headers: { location: `http://localhost:${outside.port}/page` } }) });
    try {
      expect(await webFetch(`http://localhost:${hop.port}/`, {}, { ...guarded, guard: again }, never)).toMatchObject({ ok: false, errorCode: "url_not_allowed" });
    } finally {
      hop.stop(true);
    }
    expect(inside).toEqual([]);
    // WEB_FETCH_ALLOW_PRIVATE=true lifts the guard: the private side is reachable by design.
    expect((await webFetch(`http://127.0.0.1:${outside.port}/page`, {}, open, never)).ok).toBe(true);
    expect(inside).toHaveLength(1);
  } finally {
    outside.stop(true);
    privateSide.stop(true);
  }
});

test("redirects are bounded", async () => {
  expect(await webFetch(`${base}/loop`, {}, open, never)).toMatchObject({ ok: false, errorCode: "url_not_accessible" });
});

test("an oversize page is cut at WEB_FETCH_MAX_BYTES and WEB_FETCH_MAX_CHARS, and says so", async () => {
  const bytes = await webFetch(`${base}/big`, {}, { ...open, maxBytes: 4096 }, never);
  expect(bytes.ok && bytes.truncated).toBe(true);
  if (bytes.ok) {
    expect(bytes.text.length).toBeLessThan(4096 + 100);
    expect(bytes.text).toEndWith("[page truncated by lynkr: the rest was not fetched]");
  }
  const chars = await webFetch(`${base}/big`, { maxChars: 500 }, open, never);
  expect(chars.ok && chars.truncated).toBe(true);
  if (chars.ok) expect(chars.text.length).toBeLessThan(600);
});

test("domain lists, schemes and content types", async () => {
  expect(await webFetch(`${base}/page`, { blocked_domains: ["127.0.0.1"] }, open, never)).toMatchObject({ ok: false, errorCode: "url_not_allowed" });
  expect(await webFetch(`${base}/page`, { allowed_domains: ["example.com"] }, open, never)).toMatchObject({ ok: false, errorCode: "url_not_allowed" });
  expect(await webFetch("file:///etc/passwd", {}, open, never)).toMatchObject({ ok: false, errorCode: "invalid_tool_input" });
  expect(await webFetch(`${base}/binary`, {}, open, never)).toMatchObject({ ok: false, errorCode: "unsupported_content_type" });
  expect(await webFetch(`${base}/absent`, {}, open, never)).toMatchObject({ ok: false, errorCode: "url_not_accessible" });
});

test("private, loopback, link-local and mapped addresses are recognised; public ones are not", () => {
  for (const a of ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1"]) {
    expect(isPrivateAddress(a), a).toBe(true);
  }
  for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "172.32.0.1"]) {
    expect(isPrivateAddress(a), a).toBe(false);
  }
});
