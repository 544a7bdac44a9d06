import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useSearchParams } from 'wouter-preact';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` whenever `key` changes, and again every `pollMs` while the page is open (the runs list
 * and the instigators have no stream of their own). A slower answer never overwrites a newer one.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  pollMs?: number,
): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; key: string }>({
    loading: true,
    key,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => (s.key === key ? { ...s, loading: true } : { loading: true, key }));
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) {
          setState({ data, loading: false, key });
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setState((s) => ({ ...s, error: error as Error, loading: false, key }));
        }
      },
    );
    return () => controller.abort();
  }, [key, tick]);
  useEffect(() => {
    if (!pollMs) {
      return undefined;
    }
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') {
        setTick((t) => t + 1);
      }
    }, pollMs);
    return () => clearInterval(timer);
  }, [pollMs, key]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return {
    data: state.key === key ? state.data : undefined,
    error: state.key === key ? state.error : undefined,
    loading: state.loading,
    reload,
  };
}

/** Filters live in the query string, so every view of a page can be shared as a URL. */
export function useFilters<K extends string>(
  keys: readonly K[],
): [Record<K, string>, (patch: Partial<Record<K, string>>) => void, URLSearchParams] {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>;
  const update = (patch: Partial<Record<K, string>>): void => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(patch) as [K, string | undefined][]) {
      if (value) {
        next.set(key, value);
      } else {
        next.delete(key);
      }
    }
    setParams(next, { replace: true });
  };
  return [values, update, params];
}

/** Re-renders every `ms` so ages and running durations stay current. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
