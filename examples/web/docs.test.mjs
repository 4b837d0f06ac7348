// Drives the API reference page (`tasks docs`, with its live console) in Debian's Chromium
// (headless, never a downloaded browser) with playwright-core, against the real Centrifugo and
// the example server:
//   node examples/web/docs.test.mjs PAGE_URL_WITH_FRAGMENT SCREENSHOT_PATH METHODS_JSON
// Checks that every method is listed with its type trees, runs a successful call and a typed
// error from the console, saves a screenshot; exits non-zero on failure.

import assert from 'node:assert/strict';
import { Checks, launchChromium, watchedPage } from './harness.mjs';

const [url, screenshot, methodsJson] = process.argv.slice(2);
if (!url || !screenshot || !methodsJson) {
  console.error('usage: docs.test.mjs PAGE_URL SCREENSHOT_PATH METHODS_JSON');
  process.exit(2);
}
const methods = JSON.parse(methodsJson);

const browser = await launchChromium();
const problems = [];
const requests = [];
const checks = new Checks();
const check = (name, fn) => checks.run(name, fn);

try {
  const page = await watchedPage(browser, { width: 1280, height: 900 }, problems);
  page.on('request', (r) => requests.push(r.url()));
  const text = (sel) => page.$eval(sel, (el) => el.textContent);

  await check('the page loads and the console connects from the URL fragment', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('#console-status').textContent === 'connected', null, { timeout: 15000 });
  });
  await check('every method is listed with its description and type trees', async () => {
    for (const m of methods) {
      const section = await page.$(`section[data-method="${m}"]`);
      assert.ok(section, `no section for ${m}`);
      const trees = await section.$$('.tree');
      assert.equal(trees.length, 2, `${m}: params and result trees`);
      assert.ok(await page.$(`nav a[href="#${await section.getAttribute('id')}"]`), `${m} in the navigation`);
    }
    const stats = await text('section[data-method="tasks.get_stats"]');
    assert.match(stats, /Get task statistics for a user\./);
    assert.match(stats, /user_id: string/);
    assert.match(stats, /total: integer/);
    const create = await text('section[data-method="tasks.create"]');
    assert.match(create, /INVALID_TITLE/);
    const rt = await text('section[data-method="types.roundtrip"]');
    assert.match(rt, /items: Inner\[\]/);
    assert.match(rt, /"red" \| "dark_blue"|color: Color/);
  });
  await check('streams, typed channels and typed connect data have their own sections', async () => {
    const sections = await page.$$eval('section.stream h2 > code, section.channel h2 > code', (els) => els.map((e) => e.textContent));
    assert.deepEqual(sections, ['tally:*', 'watch:count', 'watch:tasks', '#*', 'chat:*', 'tasks:*']);
    const tally = await text('section.stream:nth-of-type(1)');
    assert.match(tally, /bidirectional stream/);
    assert.match(tally, /You publish/);
    assert.match(tally, /add: integer/);
    assert.match(tally, /subscribe 'tally:KEY'/);
    const count = await page.$eval('section.stream:nth-of-type(2)', (s) => s.textContent);
    assert.match(count, /count: integer/);
    assert.match(count, /n: integer/);
    const chat = await page.$$eval('section.channel', (all) => all.map((s) => s.textContent).find((t) => t.includes('chat:*')));
    assert.match(chat, /Clients publish/);
    assert.match(chat, /from: string/);
    assert.ok(await page.$('nav a[href="#m-stream-watch-count"]'), 'streams in the navigation');
    assert.ok(await page.$('#m-stream-watch-count'), 'the navigation points at the stream');
    const connect = await text('section.connect');
    assert.match(connect, /Connect data \(you send\)/);
    assert.match(connect, /password: string/);
    assert.match(connect, /Reply data \(you receive\)/);
    assert.match(connect, /via: string/);
    assert.match(connect, /display_name: string/);
    assert.ok(await page.$('nav a[href="#connect"]'), 'connecting in the navigation');
  });
  await check('snippets in four forms', async () => {
    for (const lang of ['call', 'python', 'typescript', 'go']) {
      const snip = await text(`section[data-method="tasks.get_stats"] div[data-lang="${lang}"] pre`);
      assert.ok(snip.includes('get_stats') || snip.includes('GetStats') || snip.includes('getStats'), `${lang}: ${snip}`);
    }
    await page.click('section[data-method="tasks.get_stats"] button[data-lang="go"]');
    assert.equal(await page.$eval('section[data-method="tasks.get_stats"] div[data-lang="go"]', (d) => d.hidden), false);
  });
  await check('a console call returns the typed result with its round-trip time', async () => {
    await page.click('section[data-method="tasks.get_stats"] button.try');
    assert.equal(await page.$eval('#console-method', (s) => s.value), 'tasks.get_stats');
    assert.deepEqual(JSON.parse(await page.$eval('#console-params', (t) => t.value)), { user_id: 'string' });
    await page.fill('#console-params', '{"user_id": "docs"}');
    await page.click('#console-call');
    await page.waitForFunction(() => document.querySelector('#console-out').dataset.calls === '1');
    assert.deepEqual(JSON.parse(await text('#console-out')), { total: 0, completed: 0 });
    assert.match(await text('#console-meta'), /^result in \d+(\.\d)? ms$/);
  });
  await check('a console call shows a typed error', async () => {
    await page.selectOption('#console-method', 'tasks.complete');
    await page.fill('#console-params', '{"id": 999999}');
    await page.click('#console-call');
    await page.waitForFunction(() => document.querySelector('#console-out').dataset.calls === '2');
    assert.deepEqual(JSON.parse(await text('#console-out')), { error: { code: 1004, message: 'task not found', temporary: false } });
    assert.match(await text('#console-meta'), /^RPCError 1004 in \d+(\.\d)? ms$/);
  });
  await page.screenshot({ path: screenshot });
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-full.png'), fullPage: true });
  await check('no errors, and nothing fetched but the page itself', async () => {
    assert.deepEqual(problems, []);
    const origin = new URL(url).origin;
    assert.deepEqual(requests.filter((r) => !r.startsWith(origin)), []);
  });
} finally {
  await browser.close();
}
checks.finish();
