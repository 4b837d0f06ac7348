// The shared harness of the headless browser tests: Debian's Chromium (never a downloaded
// browser) through playwright-core, a named check that counts passes and failures, and a page
// that records its errors.

import { chromium } from 'playwright-core';

/** Launches Debian's /usr/bin/chromium headless, with no background traffic. */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Named checks: `await checks.run(name, fn)`, then `checks.finish()` prints and exits. */
export class Checks {
  passed = 0;
  failed = 0;

  async run(name, fn) {
    try {
      await fn();
      this.passed += 1;
      console.log(`ok   ${name}`);
    } catch (e) {
      this.failed += 1;
      console.log(`FAIL ${name}: ${e.message}`);
    }
  }

  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed === 0 ? 0 : 1);
  }
}

/** A new page whose errors (uncaught, or logged as console errors) land in `problems`. */
export async function watchedPage(browser, viewport, problems) {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  return page;
}
