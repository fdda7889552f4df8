import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { tempDir } from "./gateway.ts";
import { repoRoot } from "./lynkr-process.ts";

// Debian's Chromium (installed by .ci/run), headless, with a fresh profile and nothing that
// would reach the internet on its own. A missing Chromium fails the test that needs it.

export const chromiumPath = "/usr/bin/chromium";

export function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir("lynkr-chromium-"), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Where a test's screenshots go: LYNKR_TEST_ARTIFACTS, else a temp folder. With
 * LYNKR_UPDATE_SCREENSHOTS=1 they also replace the README's images under docs/.
 */
export function screenshotPaths(name: string): string[] {
  const dir = process.env.LYNKR_TEST_ARTIFACTS ?? join(tempDir("lynkr-artifacts-"));
  mkdirSync(dir, { recursive: true });
  const paths = [join(dir, name)];
  if (process.env.LYNKR_UPDATE_SCREENSHOTS === "1") paths.push(join(repoRoot, "docs", name));
  return paths;
}
