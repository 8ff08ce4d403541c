import { existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveEveryProtocol, startDemo } from './admin-helpers.js';

// The status page in a real headless browser (Debian's chromium, driven by playwright-core):
// it renders every daemon with its charts from /status.json, shows client text as text, and
// logs no console error or page error. The screenshot is kept under test-artifacts/.

const CHROMIUM = process.env.GORGON_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: scripts/install-clients.sh installs it (Debian package chromium)`);
const artifacts = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

describe.skipIf(!haveChromium)('the status page in headless chromium', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let browser: Browser;
  beforeAll(async () => {
    demo = await startDemo();
    await driveEveryProtocol(demo.daemon);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.remove();
  });

  it('renders the daemons, their charts, clients and errors with no console or page error', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
    const response = await page.goto(demo.url);
    expect(response?.status()).toBe(200);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });

    const rows = page.locator('#daemons tr.daemon');
    const names = await rows.locator('td.name').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['fingerd', 'pop3d', 'ftpd', 'nntpd', 'httpd']));
    for (const name of ['fingerd', 'pop3d', 'ftpd', 'nntpd', 'httpd']) {
      const row = rows.filter({ has: page.locator('td.name', { hasText: name }) });
      const where = await row.locator('td.mono').textContent();
      expect(where).toMatch(new RegExp(`^127\\.0\\.0\\.1:${demo.daemon.ports.get(name)}`));
      const tls = demo.daemon.ports.get(name.replace(/d$/, 'sd'));
      if (tls !== undefined) expect(await row.locator('td.mono .tls').textContent()).toBe(`TLS 127.0.0.1:${tls}`);
      expect(await row.locator('svg.chart polyline').count()).toBe(1);
    }
    expect(await page.locator('#overall svg.chart polyline').count()).toBe(1);
    expect(await page.locator('#phase').textContent()).toBe('running');
    expect(await page.locator('#version').textContent()).toMatch(/^version \d+\.\d+\.\d+/);
    expect(await page.locator('#uptime').textContent()).toMatch(/^up \d/);
    expect(await page.locator('#clients td.mono').first().textContent()).toBe('127.0.0.1');

    // A client's text (a finger query with markup in its host name) is shown as text.
    const errors = page.locator('#errors li');
    expect(await errors.count()).toBeGreaterThanOrEqual(2);
    const bad = errors.filter({ hasText: 'bad-query' });
    expect(await bad.locator('.msg').textContent()).toContain('<b>bold</b>');
    expect(await page.locator('#errors b').count()).toBe(0);

    mkdirSync(artifacts, { recursive: true });
    const shot = `${artifacts}status-page.png`;
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('refreshes itself from /status.json', async () => {
    const page = await browser.newPage();
    const fetched: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/status.json')) fetched.push(req.url());
    });
    await page.goto(demo.url);
    await page.waitForSelector('body[data-loaded="true"]');
    await page.waitForFunction(
      () => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/status.json')).length >= 2,
      undefined,
      {
        timeout: 20_000,
      },
    );
    expect(fetched.length).toBeGreaterThanOrEqual(2);
    await page.close();
  }, 60_000);
});
