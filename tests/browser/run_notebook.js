// Open a notebook in a running JupyterLab, run all its cells, wait for a rendered slider
// and a plot inside a widget, press the dashboard's Run button and read its status line,
// and take screenshots.  Used by tests/test_notebook_browser.py.
//
//   node run_notebook.js LAB_URL TOKEN NOTEBOOK OUT_DIR USER_DATA_DIR
//
// Prints one JSON line: what it found ({sliders, widgetImages, images, ...}).  Exits 1
// with a message (and a screenshot of the page as it was) if something never appeared.

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

async function main() {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  const report = { pageErrors };
  try {
    await page.goto(`${labUrl}/lab/tree/${notebook}?token=${token}&reset`, { timeout: 60000 });
    await page.locator(".jp-NotebookPanel").first().waitFor({ timeout: 60000 });
    await acceptDialogs(page, 3);
    // Wait until the kernel is connected before running: the toolbar shows its status.
    await page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first().waitFor({ timeout: 30000 });
    await page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click();
    await page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click();
    await acceptDialogs(page, 2);

    const slider = page.locator(".widget-slider").first();
    await slider.waitFor({ state: "visible", timeout: 120000 });
    const widgetPlot = page.locator(".widget-output img").first();
    await widgetPlot.waitFor({ state: "visible", timeout: 120000 });
    // The last cells run after the dashboard: wait until no cell is queued or running.
    await page.waitForFunction(() => {
      const prompts = [...document.querySelectorAll(".jp-InputArea-prompt")].map((e) => e.textContent);
      return prompts.length > 0 && !prompts.some((t) => t.includes("*"));
    }, null, { timeout: 120000 });

    // Then press the dashboard's Run button, as a student would after Run All (which used to delete
    // the trace folder first), and read its status line until the run is over, well or badly.
    const runButton = page.locator('.widget-button:has-text("Run the scenario")').first();
    await runButton.scrollIntoViewIfNeeded();
    const status = page.locator(".widget-vbox .widget-html").first();
    report.statusBefore = (await status.innerText()).trim();
    await runButton.click();
    await page.waitForFunction(() => {
      const line = document.querySelector(".widget-vbox .widget-html");
      const text = line ? line.innerText : "";
      return text.includes("select() calls") || text.includes("failed");
    }, null, { timeout: 60000 }).catch(() => {});
    report.statusAfterRun = (await status.innerText()).trim();
    const enabledBy = Date.now() + 30000;        // the button comes back once the new timeline is drawn
    while (!(await runButton.isEnabled()) && Date.now() < enabledBy) await page.waitForTimeout(200);
    report.runButtonEnabled = await runButton.isEnabled();

    report.sliders = await page.locator(".widget-slider").count();
    report.widgetImages = await page.locator(".widget-output img").count();
    report.images = await page.locator(".jp-OutputArea-output img").count();
    report.errors = await page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count();

    const dashboard = page.locator(".widget-vbox").first();
    await dashboard.scrollIntoViewIfNeeded();
    await dashboard.screenshot({ path: path.join(outDir, "dashboard.png") });
    await page.screenshot({ path: path.join(outDir, "page.png") });
    report.screenshots = ["dashboard.png", "page.png"];
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
