// POST to a collector: node:http / node:https with keep-alive connections and the agent's
// TLS files — what the shipper and `--check --connect` both use. Node's own modules rather
// than undici: the agent needs one request shape, and undici alone costs ~20 MB of RSS
// (issue #17: the agent's memory is the operator's).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface CollectorResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as text, at most MAX_RESPONSE_BYTES (a collector's answers are small). */
  text: string;
}

/** A collector's answer is an ack or an error object: more is cut (never held whole). */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class CollectorHttp {
  private readonly http = new HttpAgent({ keepAlive: true });
  private readonly https: HttpsAgent;

  constructor(tls?: { ca?: string; cert?: string; key?: string }) {
    this.https = new HttpsAgent({ keepAlive: true, ...tls });
  }

  post(url: string, body: Buffer | string, headers: Record<string, string>, signal: AbortSignal): Promise<CollectorResponse> {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:') return reject(new Error(`unsupported protocol ${target.protocol} (http: or https:)`));
      if (target.username || target.password) return reject(new Error('the collector URL holds credentials: the agent authenticates with collector.token'));
      const req = (secure ? httpsRequest : httpRequest)(target, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: secure ? this.https : this.http, signal }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          if (bytes < MAX_RESPONSE_BYTES) chunks.push(chunk);
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
