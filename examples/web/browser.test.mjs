// Drives the example page in Debian's Chromium (headless, never a downloaded browser) with
// playwright-core, against the real Centrifugo and the example server:
//   node examples/web/browser.test.mjs PAGE_URL SCREENSHOT_PATH
// Checks a typed result, a typed application error and a finished progress bar fed by the typed
// channel `#<user>` (`api.subscribeProgress`); saves a screenshot; exits non-zero on failure.

import assert from 'node:assert/strict';
import { Checks, launchChromium, watchedPage } from './harness.mjs';

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error('usage: browser.test.mjs PAGE_URL SCREENSHOT_PATH');
  process.exit(2);
}

const browser = await launchChromium();
const problems = [];
const checks = new Checks();
const check = (name, fn) => checks.run(name, fn);

try {
  const page = await watchedPage(browser, { width: 900, height: 760 }, problems);
  const text = (sel) => page.$eval(sel, (el) => el.textContent);

  await check('the page connects through Centrifugo', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    assert.match(await text('#status'), /^connected as user web$/);
  });
  await check('tasks.create and tasks.get_stats return typed results', async () => {
    await page.click('#create');
    await page.waitForFunction(() => document.querySelector('#stats-out').textContent.startsWith('created task'));
    assert.match(await text('#stats-out'), /^created task #\d+ owned by web$/);
    await page.click('#stats');
    await page.waitForFunction(() => document.querySelector('#stats-out').textContent.startsWith('total'));
    assert.equal(await text('#stats-out'), 'total: 1, completed: 0');
  });
  await check('an application error arrives as a typed RPCError', async () => {
    await page.click('#fail');
    await page.waitForFunction(() => document.querySelector('#error-out').textContent.length > 0);
    assert.equal(await text('#error-out'), 'RPCError 1004: task not found');
  });
  await check('a long call draws its progress from personal-channel publications', async () => {
    await page.click('#process');
    await page.waitForSelector('#process-out[data-done="true"]', { timeout: 15000 });
    const [value, max] = await page.$eval('#bar', (b) => [b.value, b.max]);
    assert.deepEqual([value, max], [10, 10]);
    assert.equal(await text('#process-out'), 'done: 10 steps, progress sent to #web');
  });
  await page.screenshot({ path: screenshot, fullPage: true });
  await check('no errors in the page or console', async () => assert.deepEqual(problems, []));
} finally {
  await browser.close();
}
checks.finish();
