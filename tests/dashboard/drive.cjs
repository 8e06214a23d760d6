// Drives the agent's dashboard in headless Chromium (playwright-core): it renders, it
// updates while the search runs, and it shows the final answer. Prints one JSON line of
// what it saw; exits non-zero with the reason when something is missing.
//
//   node drive.cjs URL SCREENSHOT.png
//
// TABNAS_NODE_MODULES: playwright-core's folder. With TABNAS_DASHBOARD_TOKEN set, the
// script starts the search itself (POST /search, TABNAS_DASHBOARD_STEPS steps) once the
// page shows the idle agent, so that the page sees the whole search however slow the
// browser is to start.
"use strict";
const path = require("path");
const { chromium } = require(path.join(process.env.TABNAS_NODE_MODULES, "playwright-core"));

async function main() {
  const [url, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.TABNAS_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = [];
    page.on("pageerror", e => errors.push(String(e)));
    page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url);
    await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1);
    const title = await page.title();
    const idle = await page.textContent("#phase");
    const token = process.env.TABNAS_DASHBOARD_TOKEN;
    if (token) {
      const steps = Number(process.env.TABNAS_DASHBOARD_STEPS || "4000");
      const r = await fetch(new URL("search", url), {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: JSON.stringify({ steps, seed: 1 }),
      });
      if (r.status !== 202) throw new Error("POST /search: " + r.status + " " + await r.text());
    }
    // Updates while the search runs: several controller steps seen by the page itself.
    await page.waitForFunction(
      () => (document.body.dataset.stepsSeen || "").split(",").filter(Boolean).length >= 3,
      null, { timeout: 120000, polling: 100 });
    const running = {
      phase: await page.textContent("#phase"),
      stepsSeen: await page.evaluate(() => document.body.dataset.stepsSeen),
      policyBars: await page.$$eval("#policy rect", r => r.length),
      pvPaths: await page.$$eval("#pv path", p => p.length),
    };
    // The final answer.
    await page.waitForFunction(
      () => document.getElementById("answer").textContent.startsWith("Answer:"),
      null, { timeout: 300000, polling: 200 });
    const done = {
      phase: await page.textContent("#phase"),
      answer: await page.textContent("#answer"),
      policyBars: await page.$$eval("#policy rect", r => r.length),
      pvPaths: await page.$$eval("#pv path", p => p.length),
      predicted: await page.$$eval("#children circle.predicted", c => c.length),
      measured: await page.$$eval("#children circle.measured", c => c.length),
      targetLine: await page.$$eval("#target-line", l => l.length),
    };
    await page.screenshot({ path: shot, fullPage: true });
    console.log(JSON.stringify({ title, idle, running, done, errors }));
  } finally {
    await browser.close();
  }
}

main().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
