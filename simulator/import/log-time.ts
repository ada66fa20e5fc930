// The timestamps of mail logs: syslog's `Dec  1 20:19:04` (no year; rsyslog and
// Postfix's own postlogd, which pads the day: `Dec 01`), optionally with a fraction,
// and RFC 3339 (`2024-12-01T20:19:04.123456+01:00`, rsyslog's high-precision format,
// journalctl -o short-iso, Haraka's timestamps=true). Only differences matter to an
// import, so a year-less log is placed in a leap year and moves on a year when the
// month goes backwards (a log across New Year).

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const SYSLOG = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)? /;
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})? /;

export interface Stamp {
  /** ms since an arbitrary origin; only differences mean anything */
  t: number;
  /** the rest of the line after the timestamp */
  rest: string;
  /** whether the stamp had a fraction of a second */
  fraction: boolean;
}

/** Reads the timestamps of one log in order (year-less stamps need the previous one). */
export class LogClock {
  private year = 2000;
  private lastMonth = -1;
  /** the first RFC 3339 stamp's offset from UTC, to show times as the log wrote them */
  offsetMs: number | null = null;

  read(line: string): Stamp | null {
    const iso = ISO.exec(line);
    if (iso) {
      const [, y, mo, d, h, mi, s, frac, zone] = iso;
      let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + fractionMs(frac);
      let offset = 0;
      if (zone && zone !== 'Z') {
        const m = /([+-])(\d{2}):?(\d{2})/.exec(zone)!;
        offset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
      }
      this.offsetMs ??= offset;
      t -= offset;
      // a year-less stamp after this one (a syslog line among journal lines) is of this year
      this.year = Number(y);
      this.lastMonth = Number(mo) - 1;
      return { t, rest: line.slice(iso[0].length), fraction: !!frac };
    }
    const sys = SYSLOG.exec(line);
    if (!sys) return null;
    const month = MONTHS.indexOf(sys[1].toLowerCase());
    if (month < 0) return null;
    if (this.lastMonth >= 0 && month < this.lastMonth) this.year++;
    this.lastMonth = month;
    const t = Date.UTC(this.year, month, Number(sys[2]), Number(sys[3]), Number(sys[4]), Number(sys[5])) + fractionMs(sys[6]);
    return { t, rest: line.slice(sys[0].length), fraction: !!sys[6] };
  }
}

function fractionMs(frac: string | undefined): number {
  return frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
}

/** `Dec 01 20:19:04` for the lesson: the log's own way of saying when. */
export function formatStamp(t: number, offsetMs = 0): string {
  const d = new Date(t + offsetMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()][0].toUpperCase()}${MONTHS[d.getUTCMonth()].slice(1)} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
