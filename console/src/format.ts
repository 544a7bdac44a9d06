export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) {
    return '—';
  }
  if (ms < 1000) {
    return `${Math.max(0, Math.round(ms))} ms`;
  }
  const s = ms / 1000;
  if (s < 60) {
    return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} m ${Math.round(s % 60)} s`;
  }
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

export function runDuration(run: { startTime?: string; endTime?: string }, now: number): number | undefined {
  if (!run.startTime) {
    return undefined;
  }
  return (run.endTime ? Date.parse(run.endTime) : now) - Date.parse(run.startTime);
}

export function age(iso: string | undefined, now: number): string {
  if (!iso) {
    return 'never';
  }
  const ms = now - Date.parse(iso);
  // The clock that renders ages ticks once a second, so a moment ago can look a little ahead.
  if (ms < 0 && ms > -2000) {
    return 'just now';
  }
  if (ms < 0) {
    return `in ${duration(-ms)}`;
  }
  return `${duration(ms)} ago`;
}

const TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function time(iso: string | undefined): string {
  return iso ? TIME.format(new Date(iso)) : '—';
}

export function bytes(n: number): string {
  if (n < 1024) {
    return `${n} B`;
  }
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
