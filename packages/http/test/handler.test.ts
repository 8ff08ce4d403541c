import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '@gorgon/core/testing';
import { ServerOptionError } from '@gorgon/core';
import { createHttpServer, MemoryStore, type HttpHandlerRequest, type HttpHandlerResponse, type HttpServer } from '@gorgon/http';
import { exchange, parseResponses } from './helpers.js';

// The `handler` option: pages made on request (the admin listener's status page, /metrics,
// /healthz) answered before the store, through a real socket.
describe('the handler option: responses made on request, before the store', () => {
  const records: ReturnType<typeof memoryLogger>['records'] = [];
  const seen: HttpHandlerRequest[] = [];
  let server: HttpServer;
  let port: number;
  let healthy = true;
  beforeAll(async () => {
    const store = new MemoryStore();
    store.put('/static.txt', 'from the store\n');
    server = createHttpServer({
      store,
      logger: memoryLogger(records),
      handler: async (req): Promise<HttpHandlerResponse | undefined> => {
        seen.push(req);
        switch (req.path) {
          case '/healthz':
            return healthy ? { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'ok\n' } : { status: 503, body: 'draining\n' };
          case '/json':
            return {
              status: 200,
              headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
              body: `{"q":"${req.query}"}`,
            };
          case '/bad-field':
            return { status: 200, headers: { 'X-Evil': 'a\r\nSet-Cookie: x=1' }, body: 'never' };
          case '/throws':
            throw new Error('the page broke');
          default:
            return undefined;
        }
      },
    });
    ({ port } = await server.listen(0));
  });
  afterAll(async () => {
    await server.close();
  });

  const get = async (target: string, method = 'GET') => {
    const raw = await exchange(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nX-Probe: yes\r\nConnection: close\r\n\r\n`);
    return parseResponses(raw, method === 'HEAD' ? [0] : [])[0]!;
  };

  it('answers with the status, fields and body the handler gives, and sets Content-Length itself', async () => {
    const r = await get('/json?a=1');
    expect(r.status).toBe(200);
    expect(r.fields.get('content-type')).toBe('application/json');
    expect(r.fields.get('cache-control')).toBe('no-store');
    expect(r.fields.get('content-length')).toBe(String('{"q":"a=1"}'.length));
    expect(r.body.toString()).toBe('{"q":"a=1"}');
    const req = seen.at(-1)!;
    expect(req).toMatchObject({ method: 'GET', path: '/json', query: 'a=1', remoteAddress: '127.0.0.1' });
    expect(req.field('X-PROBE')).toBe('yes');
  });

  it('HEAD gets the fields without the content', async () => {
    const r = await get('/json', 'HEAD');
    expect(r.status).toBe(200);
    expect(r.fields.get('content-length')).toBe(String('{"q":""}'.length));
    expect(r.body.length).toBe(0);
  });

  it('a 503 from the handler (a health check while draining)', async () => {
    expect((await get('/healthz')).status).toBe(200);
    healthy = false;
    const r = await get('/healthz');
    expect(r.status).toBe(503);
    expect(r.body.toString()).toBe('draining\n');
  });

  it('undefined serves the store as usual', async () => {
    const r = await get('/static.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('from the store\n');
    expect((await get('/missing')).status).toBe(404);
  });

  it('a handler that throws, or gives a field that would split the response, is a 500 and a log line', async () => {
    const thrown = await get('/throws');
    expect(thrown.status).toBe(500);
    expect(thrown.body.toString()).not.toContain('broke');
    const split = await get('/bad-field');
    expect(split.status).toBe(500);
    expect(split.fields.has('set-cookie')).toBe(false);
    const errors = records.filter((r) => r.level === 'error' && r.event === 'handler-error').map((r) => r.msg);
    expect(errors).toEqual([expect.stringContaining('the page broke'), expect.stringContaining('X-Evil')]);
  });

  it('a handler that is not a function is refused like every option', () => {
    expect(() => createHttpServer({ store: new MemoryStore(), handler: 'yes' as never })).toThrow(ServerOptionError);
    expect(() => createHttpServer({ store: new MemoryStore(), handler: 'yes' as never })).toThrow(
      /^http server option handler must be a function/,
    );
  });
});
