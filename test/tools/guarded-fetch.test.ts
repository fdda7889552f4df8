import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { isPrivateAddress, type AddressGuard } from "../../src/tools/address-guard.ts";
import { guardedFetch } from "../../src/tools/guarded-fetch.ts";
import { tempDir } from "../helpers/gateway.ts";

// The fetch behind web_fetch and a request's own MCP servers: connects to the address it checked
// while the server still sees the URL's host (Host header, TLS name), and follows redirects by
// hand, checking each hop. 127.0.0.2 plays a public address (loopback answers on all of 127/8).

const stagePublic = "127.0.0.2";
/** Every name is `stagePublic`, which passes; everything else gets the real test. */
const guard: AddressGuard = { resolve: async () => [stagePublic], isBlocked: (a) => a !== stagePublic && isPrivateAddress(a) };
const seen: { url: string; host: string | null; method: string; authorization: string | null; body: string }[] = [];
let plain: ReturnType<typeof Bun.serve>;
let secure: ReturnType<typeof Bun.serve>;
let cert: string;

beforeAll(async () => {
  const dir = tempDir();
  // A self-signed certificate for the name lynkr.test only (openssl is a dependency of this test).
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=lynkr.test", "-addext", "subjectAltName=DNS:lynkr.test", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stderr: "pipe" });
  expect(made.exitCode).toBe(0);
  cert = await Bun.file(join(dir, "cert.pem")).text();
  const record = async (req: Request) => {
    seen.push({ url: req.url, host: req.headers.get("host"), method: req.method, authorization: req.headers.get("authorization"), body: await req.text() });
    const path = new URL(req.url).pathname;
    if (path === "/see-other") return new Response(null, { status: 303, headers: { location: "/done" } });
    if (path === "/elsewhere") return new Response(null, { status: 307, headers: { location: `http://other.test:${plain.port}/done` } });
    if (path === "/to-private") return new Response(null, { status: 307, headers: { location: `http://127.0.0.1:${plain.port}/done` } });
    return new Response(`served ${path}`);
  };
  plain = Bun.serve({ hostname: stagePublic, port: 0, fetch: record });
  secure = Bun.serve({ hostname: stagePublic, port: 0, tls: { cert, key: await Bun.file(join(dir, "key.pem")).text() }, fetch: record });
});
afterAll(() => {
  plain.stop(true);
  secure.stop(true);
});

test("http: the checked address is connected to, and the server sees the URL's host", async () => {
  seen.length = 0;
  const res = await guardedFetch(guard)(`http://docs.lynkr.test:${plain.port}/page`);
  expect(await res.text()).toBe("served /page");
  expect(seen[0]?.host).toBe(`docs.lynkr.test:${plain.port}`);
});

test("https: the certificate is checked against the URL's name, not the pinned IP", async () => {
  seen.length = 0;
  const res = await guardedFetch(guard)(`https://lynkr.test:${secure.port}/tls`, { tls: { ca: cert } });
  expect(await res.text()).toBe("served /tls");
  expect(seen[0]?.host).toBe(`lynkr.test:${secure.port}`);
  // The same server under a name its certificate does not carry is refused.
  await expect(guardedFetch(guard)(`https://wrong.test:${secure.port}/tls`, { tls: { ca: cert } })).rejects.toThrow();
});

test("redirects: followed by hand, 303 turns a POST into a GET, credentials stay with their origin, each hop checked", async () => {
  seen.length = 0;
  const fetch = guardedFetch(guard);
  const res = await fetch(`http://a.test:${plain.port}/see-other`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  expect(await res.text()).toBe("served /done");
  expect(seen.map((s) => s.method)).toEqual(["POST", "GET"]);
  seen.length = 0;
  await fetch(`http://a.test:${plain.port}/elsewhere`, { method: "POST", body: "kept", headers: { authorization: "Bearer secret" } });
  expect(seen.map((s) => [s.host, s.method, s.authorization, s.body])).toEqual([
    [`a.test:${plain.port}`, "POST", "Bearer secret", "kept"],
    [`other.test:${plain.port}`, "POST", null, "kept"],
  ]);
  // redirect: "manual" hands the redirect back (the MCP SDK follows same-origin ones itself, through this fetch again).
  expect((await fetch(`http://a.test:${plain.port}/to-private`, { redirect: "manual" })).status).toBe(307);
  await expect(fetch(`http://a.test:${plain.port}/to-private`)).rejects.toThrow("127.0.0.1 resolves to 127.0.0.1");
});
