// `stacklens templates mine` as a user (and the benchmark's outside checks) meets it.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';

const mine = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'cli/dist/cli.js'), 'templates', 'mine', ...args], { encoding: 'utf8' });

/** Syslog lines of sshd: the header is read off (auto-detected), the messages mined. */
const SSHD = [
  'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186',
  'Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2',
  'Dec 10 07:02:47 LabSZ sshd[24203]: Invalid user test9 from 52.80.34.196',
  '',
  'Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user admin from 103.99.0.122',
  'Dec 10 07:07:45 LabSZ sshd[24206]: Failed password for invalid user admin from 103.99.0.122 port 57142 ssh2',
  'Dec 10 07:08:28 LabSZ sshd[24208]: pam_unix(sshd:auth): check pass; user unknown',
];

describe('stacklens templates mine', () => {
  it('--assignments: one line per input line, in order, the same id for one kind of message', () => {
    const file = join(tempDir(), 'auth.log');
    writeFileSync(file, `${SSHD.join('\n')}\n`);
    const res = mine([file, '--assignments']);
    expect(res.status, res.stderr).toBe(0);
    const lines = res.stdout.split('\n').slice(0, -1).map((l) => l.split('\t'));
    expect(lines).toHaveLength(SSHD.length);
    const [invalid1, failed1, invalid2, empty, invalid3, failed2, pam] = lines;
    expect(empty).toEqual(['', '']);
    expect(invalid1[0]).toMatch(/^[0-9a-f]{16}$/);
    expect([invalid2[0], invalid3[0]]).toEqual([invalid1[0], invalid1[0]]);
    expect(failed2[0]).toBe(failed1[0]);
    expect(new Set([invalid1[0], failed1[0], pam[0]]).size).toBe(3);
    // The template as it is at the end of the file, without the syslog header.
    expect(invalid1[1]).toBe('Invalid user <*> from <ip>');
    expect(pam[1]).toBe('pam_unix(sshd:auth): check pass; user unknown');
  });

  it('lists templates with counts and an example; --json; names a bad option', () => {
    const file = join(tempDir(), 'auth.log');
    writeFileSync(file, `${SSHD.join('\n')}\n`);
    const text = mine([file]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^7 lines → 3 templates \(header pattern: syslog\)/);
    expect(text.stdout).toMatch(/[0-9a-f]{16}  3  Invalid user <\*> from <ip>\n  e\.g\. Invalid user webmaster from 173\.234\.31\.186/);
    const json = JSON.parse(mine([file, '--json']).stdout);
    expect(json.templates.map((t: any) => t.count)).toEqual([3, 2, 1]);
    expect(mine([file, '--format', 'csv']).stderr).toContain('--format must be one of');
    expect(mine([file, '--pattern', '%{NOPE:x} %{GREEDYDATA:message}']).stderr).toContain('--pattern');
    expect(mine([file, '--format', 'json', '--pattern', 'syslog']).stderr).toContain('applies to --format plain only');
    expect(mine([join(tempDir(), 'missing.log')]).stderr).toContain('cannot read');
    expect(mine(['--help']).stdout).toContain('--assignments');
  });
});

describe('stacklens templates mine reads lines as the agent does', () => {
  it('splits at LF only: a lone CR or a control character stays inside its line, CRLF ends one', () => {
    const file = join(tempDir(), 'cr.log');
    writeFileSync(file, 'user a\rlogged in 1\nuser b logged in 2\r\nx\u000by 3\n');
    const res = mine([file, '--assignments']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout.split('\n').slice(0, -1)).toHaveLength(3);
  });

  it('docker lines are unwrapped as the agent unwraps them (a partial record joins its lines); a pattern that matches nothing is said; a directory is refused', () => {
    const dir = tempDir();
    const file = join(dir, 'container.log');
    const rec = (log: string, stream: string, t: number) => JSON.stringify({ log, stream, time: `2024-11-16T10:00:0${t}.1Z` });
    writeFileSync(file, [
      rec('Payment provider unreachable: timeout after 30s\n', 'stderr', 1),
      rec('partial start ', 'stdout', 2),
      rec('Payment provider unreachable: timeout after 31s\n', 'stderr', 3),
      rec('and end\n', 'stdout', 4),
    ].join('\n') + '\n');
    const res = mine([file, '--format', 'docker', '--assignments']);
    expect(res.status, res.stderr).toBe(0);
    const lines = res.stdout.split('\n').slice(0, -1).map((l) => l.split('\t'));
    expect(lines.map((l) => l[1])).toEqual(['Payment provider unreachable: timeout after <duration>', 'partial start and end', 'Payment provider unreachable: timeout after <duration>', 'partial start and end']);
    expect(lines[0][0]).toBe(lines[2][0]);
    const syslog = mine([file, '--pattern', 'syslog']);
    expect(syslog.status).toBe(0);
    expect(syslog.stderr).toContain('4 of 4 lines did not match the header pattern (syslog)');
    const asDir = mine([dir]);
    expect(asDir.status).toBe(1);
    expect(asDir.stderr).toBe(`stacklens templates: cannot read ${dir}: it is a directory; give a log file\n`);
  });
});
