// Opens every page of a built book in headless Chromium with the network cut
// off, and prints for each page what a reader would trip over, as JSON:
// JavaScript errors, requests that left the machine, local files that are
// missing, and links inside the book whose page or anchor does not exist.
//
// usage: node whole_book.mjs <file:// URL of a page>...
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pages = process.argv.slice(2);
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chromium-")), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
  ],
});
const page = await browser.newPage();
let current = null;
page.on("pageerror", (error) => current.errors.push(String(error)));
page.on("console", (message) => {
  if (message.type() === "error") current.errors.push(message.text());
});
page.on("requestfailed", (request) => {
  if (request.url().startsWith("file:")) current.missing.push(request.url());
});
await page.route("**/*", (route) => {
  const target = route.request().url();
  if (/^(file|blob|data):/.test(target)) return route.continue();
  current.blocked.push(target);
  return route.abort();
});

// Runs fn in the page; if the page navigated meanwhile (index.html redirects to
// the first page), waits for the new page to load and tries again.
async function settled(fn, arg) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await page.evaluate(fn, arg);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("Execution context was destroyed")) throw error;
      await page.waitForLoadState("load");
    }
  }
}

// The ids of every page visited, to check anchors after all pages are loaded.
const ids = new Map();
const links = [];
const report = [];
for (const url of pages) {
  current = { url, errors: [], blocked: [], missing: [], broken: [], widgets: 0, widget_errors: [] };
  await page.goto(url, { waitUntil: "load" });
  // Widgets render after load (require.js loads the manager): wait until every
  // embedded widget view has been drawn, or 20 s.
  const views = await settled(
    () => document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length);
  if (views > 0) {
    await page.waitForFunction(
      (n) => [...document.querySelectorAll(".widget-subarea")].filter((a) => a.children.length).length >= n,
      views, { timeout: 20000 },
    ).catch(() => {});
  }
  current.views = views;
  const seen = await settled(() => ({
    ids: [...document.querySelectorAll("[id]")].map((node) => node.id),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    // The widget manager draws each embedded view into a .widget-subarea.
    widgets: [...document.querySelectorAll(".widget-subarea")].filter((a) => a.children.length).length,
    widget_errors: [...document.querySelectorAll(".jupyter-widgets-error-widget, .widget-error")]
      .map((node) => node.textContent.trim().slice(0, 200)),
  }));
  ids.set(url.split("#")[0], new Set(seen.ids));
  current.widgets = seen.widgets;
  current.widget_errors = seen.widget_errors;
  for (const href of seen.links) if (href.startsWith("file:")) links.push([current, href]);
  report.push(current);
}
// A link inside the book must name an existing page and, if it has one, an existing anchor.
const { existsSync } = await import("node:fs");
const { fileURLToPath } = await import("node:url");
for (const [entry, href] of links) {
  const [target, anchor] = href.split("#");
  if (!existsSync(fileURLToPath(target))) {
    entry.broken.push(href);
    continue;
  }
  if (!anchor || !target.endsWith(".html")) continue;
  let targetIds = ids.get(target);
  if (!targetIds) {
    await page.goto(target, { waitUntil: "domcontentloaded" });
    targetIds = new Set(await page.evaluate(() => [...document.querySelectorAll("[id]")].map((n) => n.id)));
    ids.set(target, targetIds);
  }
  if (!targetIds.has(decodeURIComponent(anchor))) entry.broken.push(href);
}
await browser.close();
console.log(JSON.stringify(report));
