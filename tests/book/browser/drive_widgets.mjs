// Drives the widgets of a built book page in headless Chromium with the network
// cut off, following a plan, and prints what it saw as JSON.
//
// usage: node drive_widgets.mjs <page url> <plan.json> [screenshot folder]
// plan: [{"widget": "<class on the widget root>", "index": 0,
//         "set": {"<data-param>": value}, "hover": "<css selector>",
//         "click": "<css selector>", "force": false, "select": {"<data-param>": "value"},
//         "read": {"<name>": "<css selector>"}, "count": {"<name>": "<css selector>"},
//         "attributes": {"<name>": ["<css selector>", "<attribute>"]},
//         "screenshot": "<file name>"}, ...]
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, planFile, shots] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, "utf8"));
// A fresh profile every run.
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chromium-")), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
  ],
});
const report = { errors: [], blocked: [], missing: [], steps: [], widgets: {} };
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => report.errors.push(String(error)));
  page.on("requestfailed", (request) => {
    if (request.url().startsWith("file:")) report.missing.push(request.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error") report.errors.push(message.text());
  });
  // No network: anything that is not a local file is refused.
  await page.route("**/*", (route) => {
    const target = route.request().url();
    if (target.startsWith("file:") || target.startsWith("blob:") || target.startsWith("data:")) return route.continue();
    report.blocked.push(target);
    return route.abort();
  });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelectorAll(".cnnlib-widget").length > 0, null, { timeout: 30000 });
  await page.waitForTimeout(500);
  report.widgets = await page.evaluate(() => {
    const counts = {};
    for (const node of document.querySelectorAll(".cnnlib-widget")) {
      const kind = [...node.classList].find((c) => c.startsWith("cnnlib-") && c !== "cnnlib-widget");
      counts[kind] = (counts[kind] || 0) + 1;
    }
    return counts;
  });
  report.error_boxes = await page.evaluate(
    () => [...document.querySelectorAll(".jupyter-widgets-error-widget, .widget-error")].map((n) => n.textContent)
  );
  for (const step of plan) {
    const root = page.locator(`.cnnlib-widget.${step.widget}`).nth(step.index || 0);
    await root.scrollIntoViewIfNeeded();
    for (const [param, value] of Object.entries(step.set || {})) {
      await root.locator(`input[data-param="${param}"]`).evaluate((input, v) => {
        if (input.type === "checkbox") input.checked = Boolean(v);
        else input.value = String(v);
        input.dispatchEvent(new Event(input.type === "checkbox" ? "change" : "input", { bubbles: true }));
      }, value);
    }
    for (const [param, value] of Object.entries(step.select || {})) {
      await root.locator(`select[data-param="${param}"]`).selectOption(String(value));
    }
    if (step.hover) await root.locator(step.hover).first().hover();
    // "force": click at the element's centre even where a drawn mark lies on top of it.
    if (step.click) await root.locator(step.click).first().click({ force: Boolean(step.force) });
    await page.waitForTimeout(100);
    const seen = { read: {}, count: {}, attributes: {} };
    for (const [name, selector] of Object.entries(step.read || {})) {
      seen.read[name] = (await root.locator(selector).allTextContents()).map((t) => t.trim());
    }
    for (const [name, selector] of Object.entries(step.count || {})) {
      seen.count[name] = await root.locator(selector).count();
    }
    for (const [name, [selector, attribute]] of Object.entries(step.attributes || {})) {
      seen.attributes[name] = await root.locator(selector).evaluateAll(
        (nodes, a) => nodes.map((n) => n.getAttribute(a)), attribute
      );
    }
    if (step.screenshot && shots) await root.screenshot({ path: join(shots, step.screenshot) });
    report.steps.push(seen);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
