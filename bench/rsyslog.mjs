// Debian's rsyslog (imfile → omelasticsearch) shipping the same file to the same
// Elasticsearch, for a side-by-side end-to-end comparison. rsyslog sends each line as it is
// (no parsing), in bulk, with op_type create and an id from file + offset — the same
// exactly-once scheme StackLens uses, so the only difference is the pipeline.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function rsyslogAvailable() {
  const r = spawnSync('rsyslogd', ['-v'], { encoding: 'utf8' });
  const m = /rsyslogd\s+([\d.]+)/.exec(r.stdout);
  return r.status === 0 && m ? `rsyslog ${m[1]}` : undefined;
}

export async function runRsyslog({ esUrl, logFile, lines, work, index, count, progress }) {
  const url = new URL(esUrl);
  const dir = join(work, 'rsyslog');
  mkdirSync(join(dir, 'work'), { recursive: true });
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${join(dir, 'work')}")
module(load="imfile")
module(load="omelasticsearch")
template(name="ecs" type="list" option.jsonf="on") {
  property(outname="@timestamp" name="timegenerated" dateFormat="rfc3339" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
  property(outname="log.file.path" name="$!metadata!filename" format="jsonf")
  property(outname="log.offset" name="$!metadata!fileoffset" format="jsonf")
}
template(name="bulkid" type="string" string="%$!metadata!filename%:%$!metadata!fileoffset%")
ruleset(name="es") {
  action(type="omelasticsearch" server="${url.hostname}" serverport="${url.port}" template="ecs"
         searchIndex="${index}" bulkmode="on" maxbytes="10m" esVersion.major="8"
         writeoperation="create" bulkid="bulkid" dynbulkid="on"
         queue.type="linkedlist" queue.size="200000" queue.dequeuebatchsize="2048"
         action.resumeretrycount="-1")
}
input(type="imfile" File="${logFile}" Tag="pos:" addMetadata="on" ruleset="es")
`,
  );
  const check = spawnSync('rsyslogd', ['-N1', '-f', conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`rsyslog config rejected:\n${check.stdout}${check.stderr}`);
  const started = process.hrtime.bigint();
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'inherit', 'inherit'] });
  let indexed = 0;
  let lastChange = Date.now();
  while (indexed < lines) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await count(index);
    if (now !== indexed) lastChange = Date.now();
    indexed = now;
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    progress(`rsyslog end to end: ${indexed.toLocaleString()} / ${lines.toLocaleString()} (${Math.round(indexed / s).toLocaleString()} events/s)`);
    if (Date.now() - lastChange > 60_000) throw new Error(`rsyslog stalled at ${indexed} documents`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const usage = { peakRss: Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { seconds, ...usage };
}
