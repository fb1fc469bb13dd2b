import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.js';
import { CHROMIUM_PATH, hasChromium } from '../support/requirements.js';

const available = hasChromium();

// A person in a real browser: Swagger UI → Authorize → sign in as admin on the dev login page → create an API key
// with "Try it out" → authorize with that key → GET /api/v1/auth/me.
describe.skipIf(!available)('Swagger UI in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function tryOperation(operationId: string, body?: unknown): Promise<{ status: number; text: string }> {
    const operation = page.locator(`#operations-${operationId}`);
    await operation.locator('.opblock-summary').first().click();
    await operation.locator('button.try-out__btn').click();
    if (body !== undefined) await operation.locator('textarea.body-param__text').fill(JSON.stringify(body));
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() !== 'OPTIONS' && candidate.url().startsWith(`${t.baseUrl}/api/v1/`)),
      operation.locator('button.execute').click(),
    ]);
    const text = await response.text();
    await operation.locator('.opblock-summary').first().click(); // collapse again
    return { status: response.status(), text };
  }

  it('signs in as admin, creates an API key with Try it out, then calls /auth/me with that key', { timeout: 90_000 }, async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${t.baseUrl}/docs`);
    await page.locator('button.authorize').first().click();
    const modal = page.locator('.modal-ux');
    await expect.poll(() => modal.isVisible()).toBe(true);

    // OAuth2, authorization code + PKCE: the client id is pre-filled with the dev Swagger client.
    const codeFlow = modal.locator('.auth-container').filter({ hasText: 'authorizationCode' });
    expect(await codeFlow.locator('input#client_id_authorizationCode, input[id^="client_id"]').first().inputValue()).toBe('questline-swagger');
    const [popup] = await Promise.all([page.waitForEvent('popup'), codeFlow.locator('button.authorize').click()]);
    await popup.waitForLoadState();
    expect(popup.url()).toContain(`${t.config.oidcIssuer}/login-actions/`);
    await popup.fill('input[name="username"]', 'admin');
    await popup.fill('input[name="password"]', 'admin');
    await Promise.all([popup.waitForEvent('close', { timeout: 20_000 }), popup.click('[type="submit"]')]);
    await expect.poll(() => codeFlow.locator('h6', { hasText: 'Authorized' }).isVisible()).toBe(true);
    await modal.locator('button.close-modal').click();

    const created = await tryOperation('api-keys-ApiKeysController_create', { client: 'from-the-browser', description: 'Created in Swagger UI' });
    expect(created.status).toBe(201);
    const key = JSON.parse(created.text).plaintext as string;
    expect(key).toMatch(/^qk_live_/);

    // Sign out of OAuth2 and authorize with the new key instead.
    await page.locator('button.authorize').first().click();
    await modal.locator('.auth-container').filter({ hasText: 'authorizationCode' }).locator('button', { hasText: 'Logout' }).click();
    const keyAuth = modal.locator('.auth-container').filter({ hasText: 'X-API-Key' });
    await keyAuth.locator('input').first().fill(key);
    await keyAuth.locator('button.authorize').click();
    await modal.locator('button.close-modal').click();

    const me = await tryOperation('auth-AuthController_me');
    expect(me.status).toBe(200);
    expect(JSON.parse(me.text)).toMatchObject({ kind: 'apiKey', apiKey: { client: 'from-the-browser' }, isAdmin: false });
    expect(errors).toEqual([]);

    // Nothing of the key or the admin's token was left in the browser's storage, and a reload forgets them.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toContain(key.split('.')[1]);
    expect(stored).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT
    await page.reload();
    await page.locator('button.authorize').first().click();
    await expect.poll(() => page.locator('.modal-ux').isVisible()).toBe(true);
    expect(await page.locator('.modal-ux h6', { hasText: 'Authorized' }).count()).toBe(0);
  });
});
