// GET /console over HTTP: the page and its hashed assets, their security and cache headers, and what is not there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../src/http/console.js';
import { errorHandler } from '../../src/http/problem.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

const page = async () => gw.http.get('/console');
/** The same-origin URLs index.html loads (script, stylesheet, icon). */
const assetUrls = (html: string): string[] => [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');

describe('GET /console', () => {
  it('when the page is asked for, then it is HTML that loads only same-origin files, with no inline script or style', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.text;
    expect(assetUrls(html).length).toBeGreaterThanOrEqual(3);
    for (const url of assetUrls(html)) expect(url).toMatch(/^\/console\/assets\/[A-Za-z0-9_-]+\.(js|css|svg)$/);
    // Every <script> has a src and no body; no style element or attribute anywhere.
    expect([...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].every((m) => m[0].includes(' src=') && m[1] === '')).toBe(true);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('when the page is served, then its CSP allows only the gateway itself, and it is neither sniffed, framed nor cached stale', async () => {
    const res = await page();
    const csp = String(res.headers['content-security-policy']);
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-|https?:|\*|data:|blob:/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-request-id']).toMatch(/^req_/);
  });

  it('when the browser asks again with its ETag, then the answer is 304 without a body', async () => {
    const first = await page();
    const again = await gw.http.get('/console').set('if-none-match', String(first.headers.etag));
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('when an asset is fetched, then it has its own type, nosniff and a year of immutable caching (its name holds its hash)', async () => {
    const urls = assetUrls((await page()).text);
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };
    for (const url of urls) {
      const res = await gw.http.get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers['content-type']).toBe(types[url.split('.').pop() ?? '']);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it('when the bundle is read, then it names no other host to load from', async () => {
    const script = assetUrls((await page()).text).find((u) => u.endsWith('.js'))!;
    const code = (await gw.http.get(script)).text;
    // XML namespace identifiers (www.w3.org) are names, never fetched; any other absolute URL would be a third party.
    const hosts = [...code.matchAll(/https?:\/\/([a-z0-9.-]+)/gi)].map((m) => m[1]).filter((host) => host !== 'www.w3.org');
    expect(hosts).toEqual([]);
  });

  it('when an asset is unknown or its name reaches outside the folder, then the answer is the contract’s 404 problem', async () => {
    for (const path of ['/console/assets/nope-123.js', '/console/assets/..%2Findex.html', '/console/assets/%2E%2E', '/console/assets/.hidden.js', '/console/assets/index.html']) {
      const res = await gw.http.get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.code).toBe('not_found');
    }
  });

  it('when the page is posted to, then 405 names GET', async () => {
    const res = await gw.http.post('/console');
    expect(res.status).toBe(405);
    expect(res.body.code).toBe('method_not_allowed');
    expect(res.headers.allow).toContain('GET');
  });

  it('when /console/ is asked for, then it redirects to /console', async () => {
    const res = await gw.http.get('/console/');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('/console');
  });

  it('when no API key is sent, then the page is still served (it asks for one itself), while /v1 stays closed', async () => {
    expect((await page()).status).toBe(200);
    expect((await gw.http.get('/v1/refunds')).status).toBe(401);
  });
});

describe('a gateway whose console is not built', () => {
  it('when /console is asked for, then the 404 problem says how to build it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-unbuilt-'));
    const app = Fastify();
    app.setErrorHandler(errorHandler);
    await app.register(consoleRoutes, { dir: empty });
    try {
      const res = await app.inject({ method: 'GET', url: '/console' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found', detail: expect.stringContaining('npm run build') });
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
