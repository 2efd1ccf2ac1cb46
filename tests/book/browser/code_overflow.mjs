// For every page and window width, count the code and output blocks that scroll sideways.
// usage: node code_overflow.mjs <widths as a comma-separated list> <file:// URL>...
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [widths, ...pages] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'cnnlib-')), {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run'],
});
const page = await context.newPage();
const report = [];
for (const url of pages) {
  for (const width of widths.split(',').map(Number)) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(url);
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll('div.cell_input pre, div.cell_output pre')]
        .filter((pre) => pre.scrollWidth > pre.clientWidth + 1)
        .map((pre) => pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '')));
    report.push({ url, width, overflowing });
  }
}
await context.close();
console.log(JSON.stringify(report));
