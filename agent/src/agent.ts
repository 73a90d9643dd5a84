// The agent, composed in one place: discover files → harvest (tail + parse) → pipeline
// (batch, ship, ordered acks) → registry. Offsets are committed only after the collector
// acknowledged the lines, so after a crash the agent resumes where the acks stopped.
import { StateLock } from './state-lock.js';
import { hostname } from 'node:os';
import { lstat, stat } from 'node:fs/promises';
import { createLogger, type Logger } from '@stacklens/common';
import type { AgentConfig, InputConfig } from './config.js';
import { EventBuilder, AGENT_VERSION } from './event-builder.js';
import type { Server } from 'node:http';
import { Harvester, inodeKey, type HarvestEnd, type InputCounters, type ResumePoint } from './harvester.js';
import { IdentityResolver } from './identity-resolver.js';
import { FileErrors } from './file-errors.js';
import { identityScope } from './file-identity.js';
import { createAgentMetrics, serveMetrics, type AgentSnapshot } from './metrics.js';
import type { RedactionKind } from '@stacklens/common';
import { Pipeline } from './pipeline.js';
import { excludeMatcher, folderProblem, matchFiles } from './discovery.js';
import { Registry } from './registry.js';
import { ShippedMarks } from './shipped-marks.js';
import { Shipper } from './shipper.js';
import { Spool } from './spool.js';

interface LiveInput {
  /** The input's configuration as JSON: equal keys mean an unchanged input across reloads. */
  key: string;
  config: InputConfig;
  builder: EventBuilder;
  counters: InputCounters;
  /** The input's exclude globs: a glob without a slash matches the file name, one with a slash the whole path. */
  excluded: (path: string) => boolean;
  /** Matching no file has been said (warnMatchesNothing). */
  warnedEmpty?: boolean;
}



/** Keys a reload (SIGHUP) applies; a change to any other waits for a restart (said in the log). */
const RELOADABLE = new Set<string>(['inputs', 'collector', 'registry']);

export class Agent {
  private readonly log: Logger;
  private readonly registry: Registry;
  private readonly shipped: ShippedMarks;
  private readonly shipper: Shipper;
  private readonly pipeline: Pipeline;
  /** The configured inputs; replaced on reload (SIGHUP). */
  private inputs: LiveInput[];
  private metricsServer?: Server;
  private readonly spool?: Spool;
  private readonly senders = new AbortController();
  private sending: Promise<void>[] = [];
  /** Running harvesters by device:inode. */
  private readonly harvesters = new Map<string, { harvester: Harvester; done: Promise<void>; input: LiveInput }>();
  /** How far closed harvesters had read, by fingerprint (ahead of the registry's acked offsets). */
  private readonly positions = new Map<string, ResumePoint>();
  /** Files closed for inactivity (or skipped: binary, compressed and done), by inode, with their size then: reopened when they change. */
  private readonly idleFiles = new Map<string, number>();
  /** Symbolic links skipped (follow_symlinks off), warned about once. */
  private readonly symlinksSkipped = new Set<string>();
  /** Files matched by a second input (inode + input), warned about once. */
  private readonly overlaps = new Set<string>();
  /** Files skipped as binary, by inode: warned about once. */
  private readonly binaryFiles = new Set<string>();
  private readonly identities: IdentityResolver;
  private readonly fileErrors: FileErrors;
  private scanTimer?: NodeJS.Timeout;
  private flushTimer?: NodeJS.Timeout;
  private stopping = false;
  private scanning = false;

  constructor(
    private config: AgentConfig,
    log?: Logger,
  ) {
    // Every line names the agent: one log stream may hold many agents' lines.
    this.log = (log ?? createLogger('agent')).child({ agent_id: config.id });
    this.registry = new Registry(config.state_dir);
    this.shipped = new ShippedMarks(config.state_dir);
    this.shipper = new Shipper(
      { urls: config.collector.urls, token: config.collector.token, timeoutMs: config.collector.timeout, tls: config.collector.tls, agent: { id: config.id, hostname: hostname(), version: AGENT_VERSION } },
      this.log,
    );
    this.pipeline = new Pipeline(
      {
        maxEvents: config.batch.max_events,
        maxBytes: config.batch.max_bytes,
        flushIntervalMs: config.batch.flush_interval,
        maxInFlight: config.batch.max_in_flight,
      },
      () => this.shipper.newBody(),
      async (body, batch) => {
        // Recorded before anything leaves: after a crash, lines up to here are redeliveries.
        this.shipped.handedOn(Array.from(batch.ends, ({ cursor, end }) => ({ pos: cursor, end })));
        // With a spool, a batch counts as delivered once it is durably on disk: the spool
        // sender takes it to the collector from there.
        if (this.spool) await this.spool.append(await body, batch.events, batch.redeliverySince);
        else await this.shipper.shipBody(await body, batch.redeliverySince);
      },
      (cursor, end) => this.registry.commit(cursor.key, cursor.path, end, cursor.generation),
      (err) => this.log.error({ err: (err as Error).message }, 'sending a batch failed; sending it again in 1 s'),
      (cursor, end) => this.shipped.redelivers(cursor, end),
    );
    this.inputs = config.inputs.map((input) => this.liveInput(input));
    this.fileErrors = new FileErrors(this.log);
    this.identities = new IdentityResolver(this.registry, this.positions, () => this.liveFiles(), this.log);
    if (config.spool) this.spool = new Spool(config.state_dir, config.spool.max_bytes, this.log);
  }

  private liveInput(config: InputConfig): LiveInput {
    return {
      key: JSON.stringify(config),
      config,
      builder: new EventBuilder(this.config.id, hostname(), config),
      counters: { lines: 0, bytes: 0, invalidLines: 0 },
      excluded: excludeMatcher(config.exclude ?? []),
    };
  }

  private *liveFiles(): Iterable<{ inode: string; path: string; key?: string }> {
    for (const [inode, { harvester }] of this.harvesters) yield { inode, path: harvester.currentPath, key: harvester.position?.key };
  }

  /**
   * Apply a new configuration (SIGHUP): inputs that are new start at the next scan, removed
   * ones stop cleanly (what they read is still shipped and committed), unchanged ones go on.
   * Collector URLs, token and timeout change for the next batches.
   */
  reload(next: AgentConfig): void {
    // Every other key (id, state_dir, batch, spool, metrics, scan_interval, any added later) is read at start.
    for (const key of new Set([...Object.keys(next), ...Object.keys(this.config)]) as Set<keyof AgentConfig>) {
      if (RELOADABLE.has(key)) continue;
      if (JSON.stringify(next[key]) !== JSON.stringify(this.config[key])) this.log.warn({ key }, 'changing this key needs a restart; keeping the current value');
    }
    const current = new Map(this.inputs.map((i) => [i.key, i]));
    const inputs = next.inputs.map((config) => current.get(JSON.stringify(config)) ?? this.liveInput(config));
    const kept = new Set(inputs);
    for (const { harvester, input } of this.harvesters.values()) if (!kept.has(input)) harvester.stop();
    const added = inputs.filter((i) => !current.has(i.key)).length;
    for (const i of this.inputs) if (!kept.has(i)) this.unencodableRetired += i.builder.unencodable;
    this.log.info({ inputs: inputs.length, added, removed: this.inputs.filter((i) => !kept.has(i)).length }, 'inputs reloaded');
    this.inputs = inputs;
    this.config = { ...this.config, inputs: next.inputs, collector: next.collector, registry: next.registry };
    this.shipper.update({ urls: next.collector.urls, token: next.collector.token, timeoutMs: next.collector.timeout, tls: next.collector.tls, agent: { id: this.config.id, hostname: hostname(), version: AGENT_VERSION } });
    void this.scan();
  }

  async start(): Promise<void> {
    this.stateLock = StateLock.acquire(this.config.state_dir);
    this.log.info({ agent: this.config.id, collectors: this.config.collector.urls, inputs: this.config.inputs.length, state_dir: this.config.state_dir }, 'agent starting');
    if (this.config.metrics) {
      this.metricsServer = await serveMetrics(createAgentMetrics(() => this.snapshot()), this.config.metrics.listen);
      this.log.info({ listen: this.config.metrics.listen }, 'serving /metrics');
    }
    if (this.spool) {
      for (let i = 0; i < this.config.batch.max_in_flight; i++) this.sending.push(this.sendFromSpool(this.spool));
    }
    await this.scan();
    this.scanTimer = setInterval(() => void this.scan(), this.config.scan_interval);
    this.flushTimer = setInterval(() => this.flushRegistry(), 1000);
  }

  private flushRegistry(): void {
    try {
      const active = new Set<string>();
      for (const { harvester } of this.harvesters.values()) {
        const pos = harvester.position;
        if (pos) active.add(pos.key);
      }
      this.registry.cleanup(this.config.registry.clean_after, active);
      this.registry.flush();
      this.shipped.prune((key) => this.registry.get(key));
    } catch (err) {
      this.errors.registry++;
      this.log.error({ err: (err as Error).message }, 'cannot write the registry');
    }
  }

  /** Find files matching each input's globs and start a harvester for each file not yet tailed. */
  private async scan(): Promise<void> {
    if (this.scanning) return; // a slow scan (many files) must not overlap the next one
    this.scanning = true;
    try {
      await this.scanInputs();
    } finally {
      this.scanning = false;
    }
  }

  private async scanInputs(): Promise<void> {
    const seen = new Set<string>();
    for (const live of this.inputs) {
      if (this.stopping) return;
      const input = live.config;
      let paths: string[];
      try {
        paths = await matchFiles(input.paths);
      } catch (err) {
        this.log.error({ paths: input.paths, err: (err as Error).message }, 'cannot scan input paths');
        continue;
      }
      if (paths.length === 0) await this.warnMatchesNothing(live);
      for (const path of paths) {
        if (this.stopping) return;
        if (live.excluded(path)) continue;
        if (!this.inputs.includes(live)) break; // removed by a reload meanwhile
        seen.add(path);
        if (this.fileErrors.mayTry(path)) await this.startHarvester(path, live);
      }
    }
    if (!this.stopping) this.fileErrors.retain(seen);
  }

  /**
   * An input whose globs match no file is said once (at start, after a reload that made it),
   * with why where the folder tells: missing, or closed to the agent's user (under systemd, a
   * group such as adm not given) — a silent agent that ships nothing is an operator's worst case.
   */
  private async warnMatchesNothing(live: LiveInput): Promise<void> {
    if (live.warnedEmpty) return;
    live.warnedEmpty = true;
    const problems: string[] = [];
    for (const glob of live.config.paths) {
      const why = await folderProblem(glob);
      if (why) problems.push(why);
    }
    this.log.warn({ paths: live.config.paths, dataset: live.config.dataset, ...(problems.length ? { why: problems } : {}) }, 'input matches no file yet; looking again every scan_interval');
  }

  private async startHarvester(path: string, live: LiveInput): Promise<void> {
    const input = live.config;
    let st;
    try {
      if (!input.follow_symlinks && (await lstat(path)).isSymbolicLink()) {
        if (!this.symlinksSkipped.has(path)) {
          this.symlinksSkipped.add(path);
          this.log.warn({ path }, 'skipping a symbolic link (set follow_symlinks: true on the input to read what it points to)');
        }
        return;
      }
      st = await stat(path, { bigint: true });
    } catch {
      return; // vanished between glob and stat
    }
    const inode = inodeKey(st);
    const running = this.harvesters.get(inode);
    if (running) {
      running.harvester.updatePath(path);
      if (running.input !== live && !this.overlaps.has(`${inode}\u0000${live.key}`)) {
        this.overlaps.add(`${inode}\u0000${live.key}`);
        this.log.warn({ path, read_by: running.input.config.dataset, also_matched_by: input.dataset }, 'file matches the globs of two inputs: it is read by the first only');
      }
      return;
    }
    if (this.idleFiles.get(inode) === Number(st.size)) return; // closed for inactivity and unchanged
    this.idleFiles.delete(inode);

    const scope = identityScope(input);
    const harvester = new Harvester(
      path,
      inode,
      (head, p, ino, compressed) => this.identities.resolve(scope, head, p, ino, compressed),
      live.builder,
      this.pipeline,
      {
        maxLineBytes: input.max_line_bytes,
        multiline: input.multiline,
        closeInactiveMs: input.close_inactive,
        encoding: input.encoding,
        container: input.format === 'docker' || input.format === 'cri' ? input.format : undefined,
        gzip: input.decompress && path.endsWith('.gz'),
        onOpen: () => this.fileErrors.ok(path),
      },
      this.log,
      live.counters,
      (key, head) => this.identities.observe(key, head),
    );
    const sizeAtStart = Number(st.size);
    const done = harvester
      .run()
      .then((end) => this.harvestEnded(end, harvester, inode, path, sizeAtStart))
      .catch((err) => {
        this.errors.harvest++;
        this.fileErrors.failed(path, err);
      })
      .finally(() => {
        const pos = harvester.position;
        if (pos) this.positions.set(pos.key, { offset: pos.offset, generation: pos.generation });
        this.harvesters.delete(inode);
      });
    this.harvesters.set(inode, { harvester, done, input: live });
  }

  /** Remember why a harvester ended, so the next scan knows whether to open the file again. */
  private harvestEnded(end: HarvestEnd, harvester: Harvester, inode: string, path: string, sizeAtStart: number): void {
    if (end === 'inactive' && harvester.closedAt !== undefined) this.idleFiles.set(inode, harvester.closedAt);
    // A compressed file read to its end, or still being written: opened again only if it changes.
    if (end === 'complete' || end === 'incomplete') this.idleFiles.set(inode, sizeAtStart);
    if (end === 'binary') {
      this.idleFiles.set(inode, sizeAtStart);
      if (!this.binaryFiles.has(inode)) {
        this.binaryFiles.add(inode);
        this.skipped.binary++;
        this.log.warn({ path }, 'file is not text (NUL or control characters, or a compressed file\'s header, in its first block): skipped until it changes. Text in another encoding: set the input\'s encoding (e.g. utf-16le); a .gz file: set decompress: true; anything else: exclude it');
      }
    }
  }

  /** One sender: oldest spooled batch → collector → deleted on acknowledgement. */
  private async sendFromSpool(spool: Spool): Promise<void> {
    const signal = this.senders.signal;
    while (!signal.aborted) {
      const next = await spool.take(signal);
      if (!next) return;
      try {
        await this.shipper.shipBody(next.body, next.entry.redeliverySince);
      } catch {
        return; // stopped: the batch stays in the spool for the next start
      }
      this.spoolAcked += next.entry.events;
      await spool.done(next.entry);
    }
  }

  private spoolAcked = 0;
  /** Failures that are not about one line: a file that could not be tailed, a registry write. */
  private readonly errors = { harvest: 0, registry: 0 };
  /** Lines that could not be encoded, by inputs no longer configured (a counter never goes down on reload). */
  private unencodableRetired = 0;
  /** Files not read, by reason. */
  private readonly skipped = { binary: 0 };

  snapshot(): AgentSnapshot {
    const redactions: Record<RedactionKind, number> = { card_numbers: 0, bearer_tokens: 0, api_keys: 0, passwords: 0, emails: 0 };
    for (const { builder: b } of this.inputs) {
      if (!b.redactor) continue;
      for (const [k, n] of Object.entries(b.redactor.counts)) redactions[k as RedactionKind] += n;
    }
    return {
      inputs: this.inputs.map((live, i) => ({
        input: String(i),
        dataset: live.config.dataset,
        lines: live.counters.lines,
        bytes: live.counters.bytes,
        parseErrors: live.builder.parseErrors,
        patternMismatches: live.builder.patternMismatches,
        invalidLines: live.counters.invalidLines,
      })),
      files: { ...this.identities.counters, skippedBinary: this.skipped.binary },
      eventsAcked: this.spool ? this.spoolAcked : this.pipeline.eventsAcked,
      batchesAcked: this.pipeline.batchesAcked,
      spoolBytes: this.spool?.bytes ?? 0,
      spoolBatches: this.spool?.batches ?? 0,
      retries: this.shipper.retries,
      pendingEvents: this.pipeline.pendingEvents,
      openFiles: this.harvesters.size,
      registryFiles: this.registry.size,
      redactions,
      unreadableFiles: this.fileErrors.size,
      errors: { ...this.errors, file: this.fileErrors.reported, ship: this.pipeline.failures, encode: this.inputs.reduce((n, i) => n + i.builder.unencodable, this.unencodableRetired), refused: this.shipper.refused },
      fileLag: async () => Promise.all([...this.harvesters.values()].map(async ({ harvester }) => ({ path: harvester.currentPath, bytes: await harvester.lag() }))),
    };
  }

  private stopped?: Promise<void>;
  /** This agent's hold on state_dir (state-lock.ts). */
  private stateLock?: StateLock;

  /** Stop reading, ship what was read (up to drainMs), commit, and stop. Every caller waits for the same stop. */
  stop(drainMs = 10_000): Promise<void> {
    this.stopped ??= this.shutdown(drainMs);
    return this.stopped;
  }

  private async shutdown(drainMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.scanTimer);
    clearInterval(this.flushTimer);
    for (const { harvester } of this.harvesters.values()) harvester.stop();
    this.pipeline.releaseWaiters();
    await Promise.all([...this.harvesters.values()].map((h) => h.done));
    const drained = await this.pipeline.drain(drainMs);
    if (!drained) this.log.warn({ pending: this.pipeline.pendingEvents }, 'collector did not acknowledge everything before shutdown; the rest is re-sent on the next start');
    this.pipeline.close();
    this.senders.abort();
    this.shipper.stop();
    this.shipped.close();
    await Promise.all(this.sending);
    this.flushRegistry();
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
    this.stateLock?.release();
    const { eventsAcked, pendingEvents, spoolBatches, retries } = this.snapshot();
    this.log.info({ eventsAcked, pendingEvents, spoolBatches, retries }, 'agent stopped');
  }
}
