// CORS in a real browser: a page on a listed origin reads /query with a token (a
// preflighted request); a page on an unlisted origin cannot.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { browserSkip, launchChromium } from '../lib/browser.js';
import { startGateway } from '../lib/gateway.js';
import { TOKENS } from '../lib/graphql.js';
import { servePage } from '../lib/util.js';

const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>cross-origin client</title><p>client page</p>';

const QUERY = '{ customerQuotas(quotaName: "os_storage_size", first: 3) { totalCount nodes { customerName value } } }';

// Runs in the page: what a single-page app on that origin would do.
async function fetchFromPage({ endpoint, token, query }) {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { Authorization: token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return { ok: true, status: res.status, body: await res.json() };
  } catch (err) {
    return { ok: false, name: err.name, message: err.message };
  }
}

describe('CORS_ALLOWED_ORIGINS in Chromium', { skip: browserSkip() }, () => {
  let allowed; // the listed origin's page server
  let other; // an unlisted origin's page server
  let gw;
  let browser;
  before(async () => {
    allowed = await servePage(PAGE_HTML);
    other = await servePage(PAGE_HTML);
    gw = await startGateway({ env: { CORS_ALLOWED_ORIGINS: allowed.origin } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await allowed?.close();
    await other?.close();
  });

  async function fetchFrom(origin) {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(fetchFromPage, { endpoint: `${gw.url}/query`, token: TOKENS.owner, query: QUERY });
    } finally {
      await page.close();
    }
  }

  test('a page on the listed origin reads the owner\'s rows with its Authorization header', async () => {
    const r = await fetchFrom(allowed.origin);
    assert.ok(r.ok, `the cross-origin fetch from ${allowed.origin} failed in the browser: ${r.name}: ${r.message} ` +
      '(is CORS_ALLOWED_ORIGINS implemented, with Authorization and Content-Type allowed in the preflight?)');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
    const { totalCount, nodes } = r.body.data.customerQuotas;
    assert.ok(totalCount > 0 && totalCount < 200, `the owner's token should see a few dozen organisations, saw ${totalCount} (was the Authorization header dropped?)`);
    assert.equal(nodes.length, 3);
  });

  test('a page on an unlisted origin cannot read /query', async () => {
    const posts = () => gw.logs.filter((l) => l.msg === 'request' && l.method === 'POST' && l.path === '/query').length;
    const postsBefore = posts();
    const r = await fetchFrom(other.origin);
    assert.equal(r.ok, false, `the fetch from unlisted ${other.origin} succeeded: HTTP ${r.status} ${String(JSON.stringify(r.body)).slice(0, 200)}`);
    assert.equal(r.name, 'TypeError', `expected the browser's TypeError, got ${r.name}: ${r.message}`);
    // The preflight was refused, so the browser never sent the request with the token.
    await new Promise((res) => setTimeout(res, 100)); // let the gateway's log line arrive
    assert.equal(posts(), postsBefore, 'the browser sent the POST although the origin is not listed');
  });
});
