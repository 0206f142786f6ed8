// GraphiQL at "/" in Chromium, offline: nothing but the gateway's own origin is
// reached, the demo query is prefilled, and running it shows demo data.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { browserSkip, launchChromium } from '../lib/browser.js';
import { startGateway } from '../lib/gateway.js';
import { artifactPath } from '../lib/util.js';

const NOT_BUILT_HINT = /make playground|not built|npm run build/i;

describe('GraphiQL at / (offline, embedded assets)', { skip: browserSkip() }, () => {
  let gw;
  let browser;
  before(async () => {
    gw = await startGateway();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  test('renders offline, runs DemoCustomerQuotas and shows demo data', async (t) => {
    const origin = new URL(gw.url).origin;
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const thirdParty = []; // every request to anything but the gateway, aborted
    const pageErrors = [];
    const consoleErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
      thirdParty.push(url);
      return route.abort('blockedbyclient');
    });
    try {
      const res = await page.goto(`${origin}/`, { waitUntil: 'load' });
      const status = res.status();
      const bodyText = (await page.textContent('body').catch(() => '')) ?? '';
      if (status === 503 || (NOT_BUILT_HINT.test(bodyText) && !(await page.$('.graphiql-container')))) {
        assert.fail(`the GraphiQL assets are not built into the gateway binary (HTTP ${status}): ${bodyText.trim().slice(0, 300)} ` +
          '— run `make playground` before `make build`');
      }
      assert.equal(status, 200, `GET / answered HTTP ${status}`);

      // GraphiQL rendered, with the demo query in its editor.
      await page.waitForSelector('.graphiql-container', { timeout: 15_000 }).catch(() => {
        throw new Error(`GraphiQL did not render; page errors: ${pageErrors.join(' | ')}; console: ${consoleErrors.join(' | ')}; ` +
          `third-party requests: ${thirdParty.join(', ')}`);
      });
      await page.waitForFunction(
        () => document.querySelector('.graphiql-query-editor')?.textContent.includes('DemoCustomerQuotas'),
        null,
        { timeout: 10_000 },
      );

      // The Headers tab offers the Authorization header to fill in.
      await page.waitForFunction(
        () => [...document.querySelectorAll('.graphiql-editor-tool .graphiql-editor')]
          .some((e) => e.textContent.includes('"Authorization"')),
        null,
        { timeout: 10_000 },
      ).catch(() => {
        throw new Error('the Headers editor does not show the Authorization hint');
      });

      // Run it and wait for demo rows in the result pane.
      await page.click('.graphiql-execute-button');
      await page.waitForFunction(
        () => {
          const text = document.querySelector('.graphiql-response')?.textContent ?? '';
          return text.includes('"customerName"') && text.includes('"totalCount"');
        },
        null,
        { timeout: 15_000 },
      );
      const result = await page.textContent('.graphiql-response');
      assert.match(result, /"totalCount":\s*1000/, 'the demo has 1000 organisations for the default staff token');
      assert.match(result, /"customerName":\s*"[^"]+"/);
      assert.doesNotMatch(result, /"errors"/, `the result pane shows errors: ${result.slice(0, 500)}`);

      await page.screenshot({ path: artifactPath('playground.png'), fullPage: false });
      t.diagnostic(`screenshot: ${artifactPath('playground.png')}`);
      if (consoleErrors.length) t.diagnostic(`console errors: ${consoleErrors.join(' | ')}`);

      assert.deepEqual(thirdParty, [], 'the playground tried to reach other origins (it must work offline)');
      assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
    } finally {
      await context.close();
    }
  });
});
