/**
 * The status page in a real headless browser (Debian's chromium, driven by
 * puppeteer-core) against the daemon in simulated mode with an API token:
 * it loads without console errors, logs in with the token, shows the phones,
 * follows a call placed through the API to FINISH without a reload, plays its
 * recording (the duration becomes known, seeking works), drives the
 * simulator's buttons, filters recent calls, stays usable at a phone's width,
 * and leaves screenshots in test-artifacts/ (docs/status-page.png when it is
 * missing, or with UPDATE_SCREENSHOT=1).
 *
 * Skipped, saying why, where no chromium binary exists (CHROMIUM_PATH, or
 * /usr/bin/chromium from Debian's `chromium` package).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/daemon.js';

// the functions given to page.evaluate run in the page; this file compiles without the DOM library
declare const document: any;
declare const window: any;

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
const TOKEN = 'status-page-token-0123456789';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const auth = { authorization: `Bearer ${TOKEN}` };

if (!CHROMIUM) console.warn('status page browser test skipped: no chromium binary (install Debian\'s "chromium" package or set CHROMIUM_PATH)');

describe.skipIf(!CHROMIUM)('status page in headless chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const base = () => `http://127.0.0.1:${h.daemon.port}`;

  beforeAll(async () => {
    [h, browser] = await Promise.all([
      startHarness({ env: { CALLBRIDGE_SIMULATE: '1', CALLBRIDGE_SIM_TIME_SCALE: '0.3', CALLBRIDGE_API_TOKENS: TOKEN, CALLBRIDGE_HTTP_HOST: '127.0.0.1' } }),
      puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
      }),
    ]);
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
    page.on('requestfailed', (r) => {
      // the page aborts its own stream request when it logs out; nothing else may fail
      if (!r.url().endsWith('/api/stream')) consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    await page.setViewport({ width: 1280, height: 900 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in, follows a call to FINISH live, plays its recording, drives the simulator', async () => {
    await page.goto(`${base()}/`, { waitUntil: 'load' });
    // a token is configured: the page asks for it and calls nothing before
    await page.waitForSelector('#login:not([hidden])');
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.type('#token', TOKEN);
    await page.click('#login-form button[type=submit]');

    await page.waitForSelector('#sip-rows tr[data-sip="101"][data-status="online"]', { timeout: 10_000 });
    await page.waitForSelector('#stream-state:not(:empty)');
    await page.waitForFunction(() => document.querySelector('#stream-state')?.textContent === 'live');
    expect(await page.$eval('#health li[data-key="ami"] b', (b) => b.textContent)).toBe('connected');
    expect(await page.$eval('#health li[data-key="db"] b', (b) => b.textContent)).toBe('ok');
    expect(await page.$eval('#health li[data-key="version"] b', (b) => b.textContent)).toMatch(/^\d+\.\d+\.\d+/);
    expect(await page.$eval('#sip-rows tr[data-sip="101"]', (tr) => tr.textContent)).toMatch(/online/);
    expect(await page.$eval('#sip-rows tr[data-sip="106"]', (tr) => tr.dataset.status)).toBe('offline');
    expect(await page.$('#simulator:not([hidden])')).not.toBeNull();

    // a call placed through the API appears and reaches FINISH without a reload
    const made = await h.api('/api/makeCall.json?sip=101&phone=380639920000&order_id=ui-1', { headers: auth });
    expect(made.status).toBe(200);
    const callId = made.body.call_id as number;
    await page.waitForSelector(`#live-calls li[data-call-id="${callId}"]`, { timeout: 5000 });
    await page.waitForSelector(`#live-calls li[data-call-id="${callId}"][data-status="FINISH"]`, { timeout: 15_000 });
    const chain = await page.$$eval(`#live-calls li[data-call-id="${callId}"] .chain li`, (lis) => lis.map((li) => li.textContent));
    expect(chain).toEqual(['CALL', 'OPERATOR_CALLTO', 'OPERATOR_PICKUP', 'CLIENT_CALLTO', 'CLIENT_PICKUP', 'FINISH']);

    // its recording plays from the download URL: the duration becomes known, and it seeks
    const audio = `#recent-rows tr[data-call-id="${callId}"] audio`;
    await page.waitForSelector(`${audio}[data-duration]`, { timeout: 15_000 });
    const duration = Number(await page.$eval(audio, (a) => (a as any).dataset.duration));
    expect(duration).toBeGreaterThan(0.3);
    const played = await page.$eval(audio, async (el) => {
      const a = el as any;
      await a.play();
      await new Promise<void>((resolve) => {
        a.addEventListener('seeked', () => resolve(), { once: true });
        a.currentTime = a.duration / 2;
      });
      return { time: a.currentTime, error: a.error?.code ?? null, src: a.currentSrc };
    });
    expect(played.error).toBeNull();
    expect(played.time).toBeGreaterThan(0);
    expect(new URL(played.src).pathname).toMatch(/^\/recordings\/\d+$/);
    // the token never went into a URL the page built
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);

    // filters: by order, and by a final status the call does not have
    await page.type('#filters input[name=order_id]', 'ui-1');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#recent-rows tr').length === 1);
    await page.click('#filters button[type=reset]');
    await page.select('#filters select[name=status]', 'CLIENT_BUSY');
    await page.click('#filters button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#recent-rows tr').length === 0);
    await page.click('#filters button[type=reset]');
    await page.waitForSelector(`#recent-rows tr[data-call-id="${callId}"] audio[data-duration]`);

    // the simulator's buttons: unregister and register a phone, and place a test call from the page
    await page.$eval('#sim-phone input[name=sip]', (i) => ((i as any).value = '102'));
    await page.click('#sim-phone button[value=unregister]');
    await page.waitForSelector('#sip-rows tr[data-sip="102"][data-status="offline"]', { timeout: 10_000 });
    await page.waitForSelector('#history-rows tr', { timeout: 5000 });
    expect(await page.$eval('#history-rows tr', (tr) => tr.textContent)).toMatch(/102.*offline/);
    await page.click('#sim-phone button[value=register]');
    await page.waitForSelector('#sip-rows tr[data-sip="102"][data-status="online"]', { timeout: 10_000 });
    await page.$eval('#sim-call input[name=sip]', (i) => ((i as any).value = '103'));
    await page.click('#sim-call button[type=submit]');
    await page.waitForFunction(() => /call #\d+ placed/.test(document.querySelector('#sim-result')?.textContent ?? ''));
    const placed = Number((await page.$eval('#sim-result', (p) => p.textContent))!.match(/#(\d+)/)![1]);
    await page.waitForSelector(`#live-calls li[data-call-id="${placed}"][data-status="FINISH"]`, { timeout: 15_000 });
    await page.waitForSelector(`#recent-rows tr[data-call-id="${placed}"] audio[data-duration]`, { timeout: 15_000 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    // the README's picture: made when missing, refreshed on request (a run does not dirty the tree)
    const docsShot = join(process.cwd(), 'docs', 'status-page.png');
    if (!existsSync(docsShot) || process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(process.cwd(), 'docs'), { recursive: true });
      copyFileSync(join(ARTIFACTS, 'status-page.png'), docsShot);
    }

    // usable at a phone's width: nothing wider than the screen but the tables' own scroll boxes
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });

    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
