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
    // No method read (`-`) and Squid's error pseudo-URLs: which error is part of the template;
    // the method is kept as written (`get` is not `GET`).
    const unread = (url: string) => ({ ...squid('NONE_NONE', 400, '-', url, '-', 'HIER_NONE'), http: { response: { status_code: 400 } } });
    expect((templateSource(unread('error:invalid-request')) as TemplateText).text).toBe('NONE_NONE/400 - HIER_NONE error:invalid-request');
    expect((templateSource(unread('error:request-too-large')) as TemplateText).text).toBe('NONE_NONE/400 - HIER_NONE error:request-too-large');
    expect((templateSource(squid('TCP_MISS', 200, 'get', 'http://a.example/', '-', 'HIER_DIRECT')) as TemplateText).text).toBe('TCP_MISS/200 get HIER_DIRECT');
  });
});

describe('a Cisco message', () => {
  const asa = (tag: string, message: string) => ({ message, process: { name: tag } });
  const text = (doc: object) => (templateSource(doc) as TemplateText).text;

  it('is its message id — interfaces, addresses, protocols, users never split it — and the words saying how it went', () => {
    const catalog = new TemplateCatalog(undefined);
    const id = (doc: object) => catalog.assignNow('asa', templateSource(doc)).id;
    const teardown = id(asa('%ASA-6-302014', 'Teardown TCP connection 77 for outside:198.51.100.7/443 to inside:10.1.2.3/51000 duration 0:00:05 bytes 1234 TCP FINs'));
    expect(id(asa('%ASA-6-302014', 'Teardown UDP connection 78 for dmz:198.51.100.8/53 to inside:10.1.2.4/51001 duration 0:02:00 bytes 99 Conn-timeout (jdoe)'))).toBe(teardown);
    // another id, another template; a timeout is not a normal close
    expect(id(asa('%ASA-6-302013', 'Built inbound TCP connection 80 for outside:198.51.100.7/443 (198.51.100.7/443) to inside:10.1.2.3/51000 (10.1.2.3/51000)'))).not.toBe(teardown);
    expect(text(asa('%ASA-6-302014', 'Teardown TCP connection 79 for outside:198.51.100.9/80 to inside:10.1.2.5/51002 duration 0:00:30 bytes 0 SYN Timeout'))).toBe('%ASA-6-302014 timeout');
    // one id, permitted and denied at one level: two templates
    const permitted = id(asa('%ASA-6-106100', 'access-list inside_access_in permitted tcp inside/10.1.2.3(51000) -> outside/198.51.100.7(443) hit-cnt 1 first hit [0x1, 0x0]'));
    const denied = id(asa('%ASA-6-106100', 'access-list inside_access_in denied tcp inside/10.1.2.3(51000) -> outside/198.51.100.7(443) hit-cnt 1 first hit [0x1, 0x0]'));
    expect(denied).not.toBe(permitted);
    expect(id(asa('%ASA-6-106100', 'access-list guest_in denied udp guest/10.9.0.3(5353) -> outside/224.0.0.251(5353) hit-cnt 1 first hit [0x2, 0x0]'))).toBe(denied);
    expect(text(asa('%ASA-4-106023', 'Deny tcp src outside:203.0.113.5/4444 dst inside:10.1.2.3/22 by access-group "outside_access_in" [0x0, 0x0]'))).toBe('%ASA-4-106023 deny');
    // a state at the end (IOS): a link going down is not one coming up
    expect(text(asa('%LINK-3-UPDOWN', 'Interface GigabitEthernet0/1, changed state to down'))).toBe('%LINK-3-UPDOWN down');
    expect(text(asa('%LINK-3-UPDOWN', 'Interface GigabitEthernet0/2, changed state to up'))).toBe('%LINK-3-UPDOWN up');
    // words in quotes are values (a user named "failed", a command)
    expect(text(asa('%ASA-5-111008', "User 'failed' executed the 'logging enable' command."))).toBe('%ASA-5-111008');
    // Not a Cisco tag: the message, as before.
    expect(templateSource(asa('sshd', 'Accepted publickey for root'))).toBe('Accepted publickey for root');
  });

  it('is known by its tag in the message too, whatever the header layout (IOS relayed with its sequence number, ASA with its own time, a stack member)', () => {
    expect(text({ message: '52: *Mar 12 07:37:07.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down' })).toBe('%LINK-3-UPDOWN down');
    expect(text({ message: 'Mar 12 2024 07:37:45 fw-edge-01 : %ASA-6-605005: Login permitted from 10.0.0.5/5123 to inside:10.0.0.1/ssh for user "admin"' })).toBe('%ASA-6-605005 login permitted');
    expect(text(asa('%LINK-SW1-3-UPDOWN', 'Interface Gi1/0/1, changed state to up'))).toBe('%LINK-SW1-3-UPDOWN up');
    expect(templateSource({ message: 'disk usage at 95% of quota: /var' })).toBe('disk usage at 95% of quota: /var');
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
