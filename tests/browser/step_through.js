// Open notebook 9 in a running JupyterLab, run all its cells, wait for the step-through
// widget, press its buttons, and take screenshots.  Used by tests/test_trace_notebook.py.
//
//   node step_through.js LAB_URL TOKEN NOTEBOOK OUT_DIR USER_DATA_DIR
//
// Prints one JSON line: what it saw ({firstPass, afterNext, afterJump, fdRows, ...}).
// Exits 1 with a message (and a screenshot of the page as it was) if something never appeared.

const path = require("path");
const { chromium } = require("playwright-core");

const [labUrl, token, notebook, outDir, userDataDir] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function acceptDialogs(page, seconds) {
  // Lab may ask "Select Kernel" on the first open: take the default (Python 3).
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const accept = page.locator(".jp-Dialog .jp-mod-accept");
    if (await accept.count()) {
      await accept.first().click();
      return true;
    }
    await page.waitForTimeout(250);
  }
  return false;
}

// The pass number the widget shows now ("pass 12" in its header), or null.
async function shownPass(view) {
  const text = await view.locator("b").first().textContent();
  const match = /pass (\d+)/.exec(text || "");
  return match ? Number(match[1]) : null;
}

async function waitForPassChange(view, before) {
  for (let i = 0; i < 100; i++) {
    const now = await shownPass(view);
    if (now !== before) return now;
    await view.page().waitForTimeout(100);
  }
  return before;
}

async function main() {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 1100 },
  });
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  const report = { pageErrors };
  try {
    await page.goto(`${labUrl}/lab/tree/${notebook}?token=${token}&reset`, { timeout: 60000 });
    await page.locator(".jp-NotebookPanel").first().waitFor({ timeout: 60000 });
    await acceptDialogs(page, 3);
    await page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first().waitFor({ timeout: 30000 });
    await page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click();
    await page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click();
    await acceptDialogs(page, 2);

    // The stepper: a VBox whose HTML view holds the fd_set rows.
    const stepper = page.locator(".widget-vbox", { has: page.locator("tr[data-fdset]") }).first();
    await stepper.waitFor({ state: "visible", timeout: 120000 });
    await page.waitForFunction(() => {
      const prompts = [...document.querySelectorAll(".jp-InputArea-prompt")].map((e) => e.textContent);
      return prompts.length > 0 && !prompts.some((t) => t.includes("*"));
    }, null, { timeout: 120000 });
    const view = stepper.locator(".widget-html").first();
    // A cell after the widget moved it (next_event_on sleepy); go back to the start with the buttons.
    const previous = stepper.locator("button", { hasText: "previous" });
    const next = stepper.locator("button", { hasText: "next ▶" }).first();
    report.shownAfterRunAll = await shownPass(view);
    report.fdRows = await stepper.locator("tr[data-fdset]").count();
    await stepper.scrollIntoViewIfNeeded();
    await stepper.screenshot({ path: path.join(outDir, "stepper.png") });
    await next.click();
    report.afterNext = await waitForPassChange(view, report.shownAfterRunAll);
    await previous.click();
    report.afterPrevious = await waitForPassChange(view, report.afterNext);
    // Pick sleepy in the descriptor menu and jump to its next event.
    const menu = stepper.locator("select").first();
    const sleepy = await menu.locator("option", { hasText: "sleepy" }).first().getAttribute("value");
    await menu.selectOption(sleepy);
    const beforeJump = await shownPass(view);
    await stepper.locator("button", { hasText: "next event on it" }).click();
    report.afterJump = await waitForPassChange(view, beforeJump);
    report.jumpRowMentionsSleepy = (await view.textContent()).includes("sleepy");
    await stepper.screenshot({ path: path.join(outDir, "stepper-after-jump.png") });
    report.errors = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count();
    report.screenshots = ["stepper.png", "stepper-after-jump.png"];
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
