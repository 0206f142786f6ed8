// Debian's Chromium driven by playwright-core (no browser download: the system one).
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying to reach Google's
// hosts, which this closed network refuses.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // No host name resolves: the tests talk to 127.0.0.1 only, so anything that
  // tries to reach a named host (a CDN, Google's services) fails in the browser
  // itself, not just where a test intercepts the page's requests.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/**
 * The skip option for a browser test: a reason string when Chromium is missing on a
 * developer's machine, false otherwise. In CI (env CI set) a missing Chromium is not
 * skipped: launching it then fails the test, as it should.
 */
export function browserSkip() {
  if (existsSync(CHROMIUM_PATH) || process.env.CI) return false;
  return `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
}

/** Launches headless Chromium; close it with browser.close(). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
