import { expect, test } from "bun:test";
import { identify } from "../../src/doctor/identity.ts";
import { jsonResponse, startFakeUpstream } from "../helpers/fake-upstream.ts";

// Who answers on an address: a lynkr says so on /health/ready; anything else is "other", and is
// read no further than a readiness answer could be.

test("a lynkr's readiness answer names its version and configuration", async () => {
  const lynkr = startFakeUpstream(() => jsonResponse({ service: "lynkr", version: "9.9.9", config: "abc123", status: "ready" }));
  try {
    expect(await identify(lynkr.url, 5_000)).toEqual({ kind: "lynkr", version: "9.9.9", fingerprint: "abc123", ready: true });
  } finally {
    await lynkr.stop();
  }
});

test("a program that answers without end is another program, read no further than 64 KiB", async () => {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const endless = startFakeUpstream(
    () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      ),
  );
  try {
    expect(await identify(endless.url, 30_000)).toEqual({ kind: "other", detail: "HTTP 200, not lynkr's readiness answer" });
    // What was in flight when the cap hit (socket buffers) is all that was sent.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  } finally {
    await endless.stop();
  }
});
