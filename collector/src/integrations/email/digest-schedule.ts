// When a team's digest is due: "hourly" (at the top of each hour) or "daily HH:MM" (UTC).
// A period is named by its start; the digest of a period covers the period before it — the
// 08:00 digest tells what happened since the previous 08:00.
import { z } from 'zod';

export type DigestSchedule = { every: 'hourly' } | { every: 'daily'; minuteOfDay: number };

export const digestSchedule = () =>
  z.string().transform((s, ctx): DigestSchedule => {
    const t = s.trim().toLowerCase();
    if (t === 'hourly') return { every: 'hourly' };
    const m = /^daily (\d{1,2}):(\d{2})$/.exec(t);
    if (m && Number(m[1]) < 24 && Number(m[2]) < 60) return { every: 'daily', minuteOfDay: Number(m[1]) * 60 + Number(m[2]) };
    ctx.addIssue({ code: 'custom', message: 'must be "hourly" or "daily HH:MM" (UTC), e.g. "daily 08:00"' });
    return z.NEVER;
  });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The start of the period `now` is in (the moment its digest became due). */
export function periodStart(schedule: DigestSchedule, now: number): number {
  if (schedule.every === 'hourly') return Math.floor(now / HOUR) * HOUR;
  const offset = schedule.minuteOfDay * 60_000;
  return Math.floor((now - offset) / DAY) * DAY + offset;
}

/** The length of a period. */
export const periodLength = (schedule: DigestSchedule) => (schedule.every === 'hourly' ? HOUR : DAY);
