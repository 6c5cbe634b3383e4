/**
 * The console in headless Chromium over HTTPS: first-run setup, sign-in with TOTP enrolment, a
 * search refused without a purpose then run with one (images shown), the audit entry visible to
 * the auditor, a technician unable to reach detections, lockout after five bad passwords.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningApi } from '../../gateway/api/server.ts';
import { totpCode } from '../../gateway/api/totp.ts';
import { createUuidV7 } from '../../gateway/ids.ts';
import { FakeTamper, SNAPSHOT, settingsFor } from '../unit/api/fixtures.ts';
import { T0, detection, openTestStore, removeTempDirs, type TestStore } from '../unit/gateway/store-fixtures.ts';

// Functions passed to page.evaluate run in the browser; the project's tsconfig has no DOM library.
interface PageElement { textContent: string | null; complete?: boolean; naturalWidth?: number }
declare const document: { getElementById(id: string): PageElement | null; querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement> };

const PW = { chief: 'granite-orchard-falcon-31', ivy: 'copper-meadow-violin-77', audrey: 'saffron-glacier-tunnel-58', tess: 'amber-quarry-lantern-64' };

let ts: TestStore;
let api: RunningApi;
let browser: Browser;
let context: BrowserContext;

async function image(text: string, width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/><text x="8" y="${height - 10}" font-size="${height * 0.6}" font-family="sans-serif">${text}</text></svg>`;
  return sharp(Buffer.from(svg)).jpeg().toBuffer();
}

beforeAll(async () => {
  ts = await openTestStore();
  const next = createUuidV7();
  for (const [i, plate] of ['ABC123', 'ABD999', 'XYZ777'].entries()) {
    const at = T0 - 3_600_000 + i * 60_000;
    await ts.store.put(detection(next(at), at, plate), { plate: await image(plate, 200, 50), overview: await image(`car ${plate}`, 320, 180) });
  }
  api = await startConsole(settingsFor(ts.dir), { store: ts.store, status: { snapshot: () => SNAPSHOT }, tamper: new FakeTamper() });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'] });
  context = await browser.newContext({ ignoreHTTPSErrors: true, timezoneId: 'UTC' });
  context.setDefaultTimeout(20_000);
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await api?.close();
  await ts?.store.close();
  removeTempDirs();
});

async function message(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForFunction((src) => new RegExp(src, 'i').test(document.getElementById('message')?.textContent ?? ''), pattern.source);
}

/** Password, then enrolment: reads the key off the page as a phone would, types the code. */
const secrets = new Map<string, string>();

async function firstSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${api.url}/login`);
  await page.fill('#password-form input[name=username]', username);
  await page.fill('#password-form input[name=password]', password);
  await page.click('#password-form button');
  await page.waitForSelector('#step-enrol:not([hidden])');
  const secret = (await page.textContent('#totp-secret')) ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  secrets.set(username, secret);
  await page.fill('#enrol-form input[name=code]', totpCode(secret, Date.now()));
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('#enrol-form button')]);
}

async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(/\/login/), page.click('#logout')]);
}

describe('console in Chromium', () => {
  let page: Page;
  beforeAll(async () => {
    page = await context.newPage();
  });

  it('first-run setup creates the first admin, who enrols TOTP and creates accounts', async () => {
    await page.goto(`${api.url}/`);
    expect(new URL(page.url()).pathname).toBe('/setup');
    await page.fill('#setup-form input[name=username]', 'chief');
    await page.fill('#setup-form input[name=password]', 'password1234');
    await page.click('#setup-form button');
    await message(page, /common/); // a compromised password is refused
    await page.fill('#setup-form input[name=password]', PW.chief);
    await Promise.all([page.waitForURL(/\/login/), page.click('#setup-form button')]);
    await firstSignIn(page, 'chief', PW.chief);
    expect(new URL(page.url()).pathname).toBe('/admin');
    for (const [user, role] of [['ivy', 'investigator'], ['audrey', 'auditor'], ['tess', 'technician']] as const) {
      await page.fill('#create-form input[name=username]', user);
      await page.selectOption('#create-form select[name=role]', role);
      await page.fill('#create-form input[name=password]', PW[user]);
      await page.click('#create-form button');
      await message(page, /created/);
    }
    await page.waitForFunction(() => document.querySelectorAll('#accounts tr').length === 4);
    await signOut(page);
  });

  it('an investigator\'s search is refused without a purpose, then runs with one and shows images', async () => {
    await firstSignIn(page, 'ivy', PW.ivy);
    expect(new URL(page.url()).pathname).toBe('/search');
    await page.fill('#search-form input[name=caseNumber]', 'VPD-26-0142');
    await page.fill('#search-form input[name=plate]', 'AB*');
    await page.fill('#search-form input[name=from]', '2026-11-20T00:00:00');
    await page.fill('#search-form input[name=to]', '2026-11-20T23:59:59');
    await page.click('#search-form button');
    await message(page, /purpose is required/);
    expect(await page.locator('[data-testid=result]').count()).toBe(0);
    await page.fill('#search-form input[name=purpose]', 'stolen vehicle investigation');
    await page.click('#search-form button');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=result]').length === 2);
    await page.waitForFunction(() => [...document.querySelectorAll('#results img.plate')].every((i) => i.complete && i.naturalWidth === 200));
    expect(await page.textContent('#results')).toContain('ABC123');
    expect(await page.textContent('#results')).not.toContain('XYZ777');
    await page.click('#results tr:first-child button:has-text("details")');
    await page.waitForFunction(() => /"confidence"/.test(document.getElementById('detail')?.textContent ?? ''));
    expect(await page.textContent('#detail')).toContain('"plate": "ABC123"');
    // Evidence hold on the selected results, then an export with its release record.
    await page.check('#results tr:first-child input[type=checkbox]');
    await page.fill('#hold-form input[name=reason]', 'evidence for VPD-26-0142');
    await page.click('#hold-form button');
    await message(page, /Hold .* placed on 1 detection/);
    expect(await page.inputValue('#hold-id')).toMatch(/^[0-9a-f-]{36}$/);
    for (const [name, value] of [['purpose', 'release to Oakland PD'], ['agency', 'Oakland PD'], ['requester', 'Det. Chen'], ['releasePurpose', 'robbery investigation'], ['approver', 'Lt. Ruiz'], ['password', 'bundle-password-long-enough']] as const) {
      await page.fill(`#export-form input[name=${name}]`, value);
    }
    await page.click('#export-form button');
    await message(page, /Exported 1 record\(s\); release recorded/);
    expect(await page.getAttribute('#export-result a', 'download')).toMatch(/^evidence-.*\.jwe$/);
    await signOut(page);
  });

  it('the auditor sees the search in the audit log, with user, case, purpose and terms', async () => {
    await firstSignIn(page, 'audrey', PW.audrey);
    expect(new URL(page.url()).pathname).toBe('/audit');
    await page.fill('#audit-form input[name=purpose]', 'quarterly audit');
    await page.fill('#audit-form input[name=action]', 'detection.search');
    await page.click('#audit-form button');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=audit-entry]').length === 2);
    const rows = await page.locator('[data-testid=audit-entry]').allTextContents();
    const ok = rows.find((r) => r.includes('ok'));
    expect(ok).toContain('ivy');
    expect(ok).toContain('VPD-26-0142');
    expect(ok).toContain('stolen vehicle investigation');
    expect(ok).toContain('AB*');
    expect(rows.some((r) => r.includes('refused'))).toBe(true);
    await page.fill('#verify-form input[name=purpose]', 'quarterly audit');
    await page.click('#verify-form button');
    await page.waitForFunction(() => /Chain intact/.test(document.getElementById('verify-result')?.textContent ?? ''));
    await signOut(page);
  });

  it('a technician cannot reach detections', async () => {
    await firstSignIn(page, 'tess', PW.tess);
    expect(new URL(page.url()).pathname).toBe('/health');
    await page.goto(`${api.url}/search`);
    expect(await page.textContent('[data-testid=denied]')).toContain('technician');
    const status = await page.evaluate(async () => (await fetch('/api/detections/search', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ caseNumber: 'X-1', purpose: 'curious', from: 0, to: 1 }),
    })).status);
    expect(status).toBe(403);
    await page.goto(`${api.url}/health`);
    await signOut(page);
  });

  it('five bad passwords lock the account; the right one is then refused too', async () => {
    await page.goto(`${api.url}/login`);
    for (let i = 1; i <= 5; i++) {
      await page.fill('#password-form input[name=username]', 'ivy');
      await page.fill('#password-form input[name=password]', `not-my-password-${i}`);
      await page.click('#password-form button');
      await message(page, i < 5 ? /wrong/ : /locked/);
      if (i < 5) await page.evaluate(() => { document.getElementById('message')!.textContent = ''; });
    }
    await page.fill('#password-form input[name=password]', PW.ivy);
    await page.evaluate(() => { document.getElementById('message')!.textContent = ''; });
    await page.click('#password-form button');
    await message(page, /locked/);
    expect(api.state.accounts.get('ivy')?.lockedAt).toBeDefined();
  });

  it('an admin releases the lockout from the accounts page', async () => {
    await page.goto(`${api.url}/login`);
    await page.fill('#password-form input[name=username]', 'chief');
    await page.fill('#password-form input[name=password]', PW.chief);
    await page.click('#password-form button');
    await page.waitForSelector('#step-totp:not([hidden])');
    // The next step's code: the enrolment may have used this step's (a used step is refused).
    await page.fill('#totp-form input[name=code]', totpCode(secrets.get('chief') ?? '', Date.now() + 30_000));
    await Promise.all([page.waitForURL(/\/admin/), page.click('#totp-form button')]);
    await page.click('#accounts tr:has-text("ivy") button:has-text("Release lockout")');
    await page.waitForFunction(() => [...document.querySelectorAll('#accounts tr')].some((r) => /^ivyinvestigator/.test(r.textContent ?? '') && !/LOCKED/.test(r.textContent ?? '')));
    expect(api.state.accounts.get('ivy')?.lockedAt).toBeUndefined();
    await signOut(page);
    await page.fill('#password-form input[name=username]', 'ivy');
    await page.fill('#password-form input[name=password]', PW.ivy);
    await page.click('#password-form button');
    await page.waitForSelector('#step-totp:not([hidden])');
  });
});
