// Places two orders on the FTGO page in headless Chromium and waits for each to end, then keeps a
// screenshot. Usage: node page-test.mjs <page url> <screenshot.png>
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  await page.goto(url);
  await page.selectOption('select[name=consumerId]', 'alice');
  await page.selectOption('select[name=dish]', 'biryani');
  await page.fill('input[name=quantity]', '2');
  await page.click('#submit');
  const first = page.locator('section.order').first();
  await first.locator('.state.APPROVED').waitFor({ timeout: 30000 });
  // The steps of an order may be drawn a poll after its state (a CI run once read APPROVED with
  // the command reply not yet shown): wait (bounded) for each.
  for (const style of ['REST', 'gRPC', 'command reply', 'event (outbox)']) {
    await first.filter({ hasText: style }).waitFor({ timeout: 30000 }).catch(async () => {
      throw new Error(`step style ${style} missing: ${await first.textContent()}`);
    });
  }
  await page.selectOption('select[name=card]', '4000-0000-0000-0002');
  await page.click('#submit');
  await page.locator('section.order').first().locator('.state.REJECTED').waitFor({ timeout: 30000 });
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log('page test passed');
} finally {
  await browser.close();
}
