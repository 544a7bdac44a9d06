import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import type { RunEvent } from '../api';

const ROW_H = 26;
const OVERSCAN = 12;

export interface LogFilters {
  level: string;
  step: string;
  type: string;
  q: string;
}

export function matches(event: RunEvent, f: LogFilters): boolean {
  if (f.level && event.level !== f.level) {
    return false;
  }
  if (f.step && event.stepKey !== f.step) {
    return false;
  }
  if (f.type && event.type !== f.type) {
    return false;
  }
  if (f.q) {
    const q = f.q.toLowerCase();
    return event.message.toLowerCase().includes(q) || event.type.toLowerCase().includes(q);
  }
  return true;
}

/**
 * The event log, windowed: only the rows in view are in the DOM, so thousands of events a second cost
 * one small render per frame. It follows the tail until the reader scrolls up.
 */
export function EventLog({
  events,
  filters,
  version,
}: {
  events: RunEvent[];
  filters: LogFilters;
  version: number;
}) {
  const shown = useMemo(() => events.filter((e) => matches(e, filters)), [events, version, filters]);
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(420);
  const follow = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (!el) {
      return undefined;
    }
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [shown.length]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / ROW_H) + OVERSCAN);
  return (
    <div
      class="event-log"
      ref={box}
      tabIndex={0}
      role="log"
      aria-label={`Event log, ${shown.length} of ${events.length} events`}
      data-count={shown.length}
      data-total={events.length}
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_H * 2;
        setScrollTop(el.scrollTop);
      }}
    >
      {shown.length === 0 ? (
        <p class="state state-empty">
          {events.length === 0 ? 'No events yet.' : 'No event matches the filters.'}
        </p>
      ) : (
        <div style={{ height: `${shown.length * ROW_H}px`, position: 'relative' }}>
          {shown.slice(first, last).map((e, i) => (
            <div
              key={e.id}
              class={`log-row level-${e.level}`}
              style={{ top: `${(first + i) * ROW_H}px` }}
              data-type={e.type}
              data-step={e.stepKey ?? ''}
            >
              <span class="log-time">{e.timestamp.slice(11, 23)}</span>
              <span class="log-level">{e.level}</span>
              <span class="log-type">{e.type}</span>
              <span class="log-step">{e.stepKey ?? ''}</span>
              <span class="log-message" title={e.message}>
                {e.message}
              </span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
