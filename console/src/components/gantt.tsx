import type { Run } from '../api';
import { duration } from '../format';
import type { StepTimeline } from '../run-model';

/** The step timeline: one row per step, one bar per attempt, on the run's own time axis. */
export function Gantt({ run, timeline, now }: { run: Run; timeline: StepTimeline[]; now: number }) {
  if (timeline.length === 0) {
    return <p class="state state-empty">No step has started yet.</p>;
  }
  const starts = timeline.flatMap((t) => t.attempts.map((a) => a.start));
  const origin = run.startTime ? Math.min(Date.parse(run.startTime), ...starts) : Math.min(...starts);
  const ends = timeline.flatMap((t) => t.attempts.map((a) => a.end ?? now));
  const last = run.endTime ? Math.max(Date.parse(run.endTime), ...ends) : Math.max(now, ...ends);
  const span = Math.max(1, last - origin);
  const pct = (ms: number): string => `${((ms / span) * 100).toFixed(3)}%`;
  return (
    <div class="gantt" role="table" aria-label="Step timeline">
      <div class="gantt-row gantt-axis" role="row">
        <span role="columnheader" class="gantt-label">
          Step
        </span>
        <span role="columnheader" class="gantt-track">
          0 — {duration(span)}
        </span>
      </div>
      {timeline.map((t) => (
        <div class="gantt-row" role="row" key={t.step} data-step={t.step}>
          <span role="rowheader" class="gantt-label" title={t.step}>
            {t.step}
            {t.attempts.length > 1 ? <small> ×{t.attempts.length}</small> : null}
          </span>
          <span role="cell" class="gantt-track">
            {t.attempts.map((a) => {
              const end = a.end ?? now;
              const label = `${t.step} attempt ${a.attempt}: ${a.outcome}, ${duration(end - a.start)}`;
              return (
                <span
                  key={a.attempt}
                  class={`bar bar-${a.outcome}`}
                  style={{ left: pct(a.start - origin), width: `max(3px, ${pct(end - a.start)})` }}
                  title={label}
                  role="img"
                  aria-label={label}
                  data-attempt={a.attempt}
                  data-outcome={a.outcome}
                />
              );
            })}
          </span>
        </div>
      ))}
    </div>
  );
}
