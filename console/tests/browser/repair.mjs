// Drives the console's Repair action in a real browser (headless Chromium through
// playwright-core), as an operator would: open the collection page, wait for the drifted
// bucket's heatmap cell, press its Repair button, follow the redirect, and wait until the
// cell turns ok, the repair shows on the collection page and on /history.
// Usage: node repair.mjs CONSOLE_URL BUCKET   (CHROMIUM=/usr/bin/chromium by default)
// Exit 0 on success; any failure throws (exit 1) with what was seen.
import { chromium } from 'playwright-core';

const [base, bucket] = process.argv.slice(2);
if (!base || bucket === undefined) {
  console.error('usage: node repair.mjs CONSOLE_URL BUCKET');
  process.exit(2);
}
const collectionUrl = `${base}/collections/default`;
const cell = `[data-bucket="${bucket}"]`;

async function waitForCell(page, state, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let seen = null;
  while (Date.now() < deadline) {
    await page.goto(collectionUrl);
    seen = await page.getAttribute(cell, 'data-state');
    if (seen === state) return;
    await page.waitForTimeout(300);
  }
  throw new Error(`bucket ${bucket} stayed ${seen}, expected ${state}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await waitForCell(page, 'drift', 30000);
  const button = page.locator(`#repair-bucket-${bucket}`);
  if ((await button.count()) !== 1) throw new Error('no Repair button for the drifted bucket');
  await Promise.all([page.waitForURL(collectionUrl), button.click()]);
  await waitForCell(page, 'ok', 30000);
  const progress = await page.textContent('#repairs');
  if (!progress.includes('operator') || !progress.includes('done')) {
    throw new Error(`repair progress not shown: ${progress}`);
  }
  await page.goto(`${base}/history`);
  const history = await page.textContent('#repair-history');
  if (!history.includes('operator')) throw new Error(`repair history not shown: ${history}`);
  console.log(`repaired bucket ${bucket} through the console`);
} finally {
  await browser.close();
}
