import { describe, expect, it } from 'vitest';
import { TemplateText, pathShape, templateSource } from './access-template.js';
import { TemplateMiner } from './miner.js';
import { TemplateCatalog } from '../template-catalog.js';

const access = (method: string, url: string, status: number, agent = 'curl/8.5.0') => ({
  '@timestamp': '2024-11-16T10:30:00Z',
  message: `10.0.0.1 - - [16/Nov/2024:10:30:00 +0000] "${method} ${url} HTTP/1.1" ${status} 612 "-" "${agent}"`,
  http: { request: { method }, response: { status_code: status } },
  url: { original: url },
});

describe('access-line templates', () => {
  it('the path keeps its words; segments with digits, and long ones, are values; query, scheme and host go', () => {
    expect(pathShape('/api/v1/orders/12345?expand=items')).toBe('/api/<*>/orders/<*>');
    expect(pathShape('https://shop.example.com/static/js/main.371c1714.js')).toBe('/static/js/<*>');
    expect(pathShape('/')).toBe('/');
    expect(pathShape('*')).toBe('<*>');
    expect(pathShape('/a/b/c/d/e/f/g/h/i/j')).toBe('/a/b/c/d/e/f/g/h/<*>');
    expect(pathShape(`/files/${'x'.repeat(40)}`)).toBe('/files/<*>');
  });

  it('one template per method, endpoint and status, whatever the client, agent or size', () => {
    const catalog = new TemplateCatalog(undefined);
    const id = (doc: object) => catalog.assignNow('nginx', templateSource(doc)).id;
    const ok = id(access('GET', '/api/v1/orders/1', 200));
    expect(id(access('GET', '/api/v1/orders/2', 200, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0'))).toBe(ok);
    expect(id(access('GET', '/api/v1/orders/3', 502))).not.toBe(ok);
    expect(id(access('POST', '/api/v1/orders/4', 200))).not.toBe(ok);
    expect(id(access('GET', '/api/v1/users/5', 200))).not.toBe(ok);
    expect(catalog.templates('nginx').map((t) => t.template)).toContain('GET /api/<*>/orders/<*> 502');
    // Not an access line: the message, as before.
    expect(templateSource({ message: 'Pricing error in order', http: { request: { method: 'GET' } } })).toBe('Pricing error in order');
    expect(templateSource({ message: 'x', http: { request: { method: 'GET' }, response: { status_code: 99 } }, url: { original: '/' } })).toBe('x');
  });

  it('a template text is mined word for word: never masked, never generalized into another', () => {
    const m = new TemplateMiner();
    const a = m.match(new TemplateText('GET /healthz 200', 'line a'));
    expect(a.template).toBe('GET /healthz 200');
    expect(m.match(new TemplateText('GET /readyz 200', 'line b')).id).not.toBe(a.id);
    expect(m.match(new TemplateText('GET /healthz 200', 'line c')).id).toBe(a.id);
  });
});

describe("a forward proxy's access line (Squid)", () => {
  const squid = (result: string, status: number, method: string, url: string, user: string, route: string) => ({
    message: `1710226801.784    344 10.20.6.93 ${result}/${status} 743 ${method} ${url} ${user} ${route}/77.163.139.114 text/html`,
    event: { action: result },
    squid: { hierarchy_code: route },
    http: { request: { method }, response: { status_code: status } },
    url: { original: url },
  });

  it("is what the proxy did — result, status, method, route — whatever the site, path or user", () => {
    expect(templateSource(squid('TCP_MISS', 0, 'GET', 'http://a.example/x', 'jdoe', 'HIER_DIRECT'))).toEqual(new TemplateText('TCP_MISS/000 GET HIER_DIRECT', expect.any(String) as string));
    const catalog = new TemplateCatalog(undefined);
    const id = (doc: object) => catalog.assignNow('squid', templateSource(doc)).id;
    const miss = id(squid('TCP_MISS', 200, 'GET', 'http://security.debian.org/debian/pool/main/s/sudo/x.deb', 'jdoe', 'HIER_DIRECT'));
    expect(id(squid('TCP_MISS', 200, 'GET', 'https://www.example.org/a/b?c=1', 'mlee', 'HIER_DIRECT'))).toBe(miss);
    expect(id(squid('TCP_HIT', 200, 'GET', 'http://security.debian.org/debian/pool/main/s/sudo/x.deb', 'jdoe', 'HIER_DIRECT'))).not.toBe(miss);
    expect(id(squid('TCP_MISS', 404, 'GET', 'http://security.debian.org/x', 'jdoe', 'HIER_DIRECT'))).not.toBe(miss);
    expect(id(squid('TCP_MISS', 200, 'POST', 'http://security.debian.org/x', 'jdoe', 'HIER_DIRECT'))).not.toBe(miss);
    expect(id(squid('TCP_MISS', 200, 'GET', 'http://security.debian.org/x', 'jdoe', 'FIRSTUP_PARENT'))).not.toBe(miss);
    expect(catalog.templates('squid')).toHaveLength(5);
    // A method Squid writes for no request at all is not a method: the message is mined.
    const none = squid('NONE_NONE', 0, 'error:transaction-end-before-headers', '-', '-', 'HIER_NONE');
    expect(templateSource(none)).toBe(none.message);
  });
});

describe('a statement logged after an error', () => {
  it('is mined with its label: one template whatever the SQL (PostgreSQL STATEMENT / QUERY lines)', () => {
    const line = (sql: string) => ({ '@timestamp': '2024-03-11T07:17:34Z', message: sql, log: { level: 'STATEMENT' } });
    expect(templateSource(line('SELECT 1'))).toBe('statement: SELECT 1');
    const m = new TemplateMiner();
    const a = m.match(templateSource(line('SELECT * FROM stats_daily WHERE day = 3')) as string);
    expect(m.match(templateSource(line('UPDATE stock SET qty = 0 WHERE sku = $1')) as string).id).toBe(a.id);
    expect(templateSource({ message: 'SELECT 1', log: { level: 'ERROR' } })).toBe('SELECT 1');
  });
});
