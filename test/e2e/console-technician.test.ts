/**
 * The technician's pages in headless Chromium: live view decoded by jsmpeg from the device (no
 * CDN, within the page's CSP) over the console's own websocket, and a commissioning run whose
 * passes appear as they happen and which ends in a signed report.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LiveViewRelay } from '../../drivers/camera/live-view.ts';
import { startConsole, type RunningApi } from '../../gateway/api/server.ts';
import { totpCode } from '../../gateway/api/totp.ts';
import { createUuidV7 } from '../../gateway/ids.ts';
import { testClip } from '../helpers/clips.ts';
import { FakeTamper, SNAPSHOT, settingsFor } from '../unit/api/fixtures.ts';
import { detection, openTestStore, removeTempDirs, type TestStore } from '../unit/gateway/store-fixtures.ts';

interface PageElement { textContent: string | null }
declare const document: { getElementById(id: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> };
declare const window: { JSMpeg?: { Player?: unknown } };

const PASSWORD = 'amber-quarry-lantern-64';
let ts: TestStore;
let api: RunningApi;
let relay: LiveViewRelay;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const cspViolations: string[] = [];

beforeAll(async () => {
  const clip = await testClip();
  ts = await openTestStore();
  relay = new LiveViewRelay({ cameraId: 'north', url: clip.path, loop: true, width: 320 });
  api = await startConsole(settingsFor(ts.dir), { store: ts.store, status: { snapshot: () => SNAPSHOT }, tamper: new FakeTamper(), liveView: (id) => (id === 'north' ? relay : undefined) });
  await api.state.accounts.create('tess', 'technician', PASSWORD, 'test', Date.now());
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'] });
  context = await browser.newContext({ ignoreHTTPSErrors: true, timezoneId: 'UTC' });
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
  page.on('console', (m) => {
    // jsmpeg injects a stylesheet for its VideoElement wrapper when it loads; the console draws on
    // its own canvas and never uses that wrapper, so the CSP keeps the injection blocked on purpose.
    // Every other violation (a script, wasm, a connection, an inline handler) fails the test.
    const jsmpegStyle = /Applying inline style/.test(m.text()) && new URL(page.url()).pathname === '/live';
    if (/Content Security Policy/i.test(m.text()) && !jsmpegStyle) cspViolations.push(`${page.url()}: ${m.text()}`);
  });
  await page.goto(`${api.url}/login`);
  await page.fill('#password-form input[name=username]', 'tess');
  await page.fill('#password-form input[name=password]', PASSWORD);
  await page.click('#password-form button');
  await page.waitForSelector('#step-enrol:not([hidden])');
  const secret = (await page.textContent('#totp-secret')) ?? '';
  await page.fill('#enrol-form input[name=code]', totpCode(secret, Date.now()));
  await Promise.all([page.waitForURL(/\/health/), page.click('#enrol-form button')]);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await relay?.stop();
  await api?.close();
  await ts?.store.close();
  removeTempDirs();
});

it('live view: jsmpeg from the device plays the camera over the console\'s websocket', async () => {
  await page.goto(`${api.url}/live`);
  expect(await page.evaluate(() => typeof window.JSMpeg?.Player)).toBe('function');
  await expect.poll(() => relay.bytesSent, { timeout: 30_000 }).toBeGreaterThan(32 * 1024);
  expect(relay.viewers).toBe(1);
  expect(cspViolations).toEqual([]);
  await page.goto(`${api.url}/health`);
  await expect.poll(() => relay.viewers, { timeout: 15_000 }).toBe(0);
});

it('commissioning: passes appear as the test car drives past, then a signed report', async () => {
  await page.goto(`${api.url}/commissioning`);
  await page.fill('#start-form input[name=plate]', 'TEST123');
  await page.fill('#start-form input[name=passes]', '2');
  await page.click('#start-form button');
  await page.waitForFunction(() => /0 of 2 passes/.test(document.getElementById('run')?.textContent ?? ''));
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><rect width="100%" height="100%" fill="#fff"/><text x="8" y="40" font-size="34" font-family="sans-serif">TEST123</text></svg>';
  const crop = await sharp(Buffer.from(svg)).jpeg().toBuffer();
  const next = createUuidV7();
  const box = { x: 0, y: 0, width: 150, height: 40 };
  for (let i = 0; i < 2; i++) await api.observeDetection(detection(next(Date.now() + i), Date.now(), 'TEST123', { box }), { plate: crop });
  await page.waitForFunction(() => document.querySelectorAll('#passes tr').length === 2);
  expect(await page.textContent('#passes')).toContain('150 × 40');
  await page.click('#finish-form button');
  await page.waitForFunction(() => /Signed report \(JWS\)/.test(document.getElementById('report')?.textContent ?? ''));
  expect(await page.textContent('#report')).toContain('"result": "pass"');
  expect(cspViolations).toEqual([]);
});
