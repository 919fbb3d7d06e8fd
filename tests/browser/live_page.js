// Open the live view of a running `selectchat server --live`, and watch a room appear.
// Used by tests/test_live_browser.py.
//
//   node live_page.js PAGE_URL ROOM OUT_DIR USER_DATA_DIR
//
// Prints "ready" once the page has drawn its first update (the test then makes a client
// join ROOM and say a line), then one JSON line: what it saw.  Exits 1 with a message
// (and a screenshot of the page as it was) if the room or the message never appeared.

const path = require("path");
const { chromium } = require("playwright-core");

const [pageUrl, room, outDir, userDataDir] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function main() {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1600, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  const report = { pageErrors };
  try {
    await page.goto(pageUrl, { timeout: 30000 });
    await page.waitForFunction(() => Number(document.body.dataset.updates || 0) >= 1, null, { timeout: 15000 });
    report.statusAtStart = await page.locator("#status").textContent();
    const before = Number(await page.evaluate(() => document.body.dataset.updates));
    console.log("ready");

    const roomCard = page.locator(`.room[data-room="${room}"]`);
    await roomCard.waitFor({ state: "visible", timeout: 15000 });
    const message = page.locator("#events div", { hasText: "a message" }).first();
    await message.waitFor({ state: "visible", timeout: 15000 });
    report.roomText = await roomCard.textContent();
    report.members = await roomCard.locator(".member").allTextContents();
    report.eventLines = await page.locator("#events div").allTextContents();
    report.descriptorRows = await page.locator("#fds tr").count();
    report.calls = await page.locator("#calls div").count();
    report.passesPerSecond = await page.locator("#pps").textContent();
    // Updates keep coming: at least two more in a second.
    const seen = Number(await page.evaluate(() => document.body.dataset.updates));
    await page.waitForTimeout(1000);
    report.updatesPerSecond = Number(await page.evaluate(() => document.body.dataset.updates)) - seen;
    report.updatesSinceReady = seen - before;
    await page.screenshot({ path: path.join(outDir, "live.png") });
    report.screenshots = ["live.png"];
    console.log(JSON.stringify(report));
  } catch (error) {
    await page.screenshot({ path: path.join(outDir, "failure.png") }).catch(() => {});
    console.error(`browser check failed: ${error.message}`);
    console.log(JSON.stringify(report));
    process.exitCode = 1;
  } finally {
    await context.close();
  }
}

main();
