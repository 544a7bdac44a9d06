import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';

import { api, query, type Page, type Schedule, type Sensor, type Tick } from '../api';
import {
  DataTable,
  ErrorBox,
  Fact,
  ListLoaded,
  Loaded,
  PageTitle,
  PagedTable,
  Status,
} from '../components/ui';
import { age, duration, shortId, time } from '../format';
import { useFilters, useLoad, useNow } from '../hooks';

type Kind = 'sensors' | 'schedules';

/** What sensors and schedules have in common, which is all the shared views below need. */
interface Instigator {
  name: string;
  description?: string;
  status: string;
  lastTickStart?: string;
  lastTicks: Tick[];
}

const NOUN: Record<Kind, string> = { sensors: 'Sensor', schedules: 'Schedule' };

function Toggle({
  kind,
  name,
  status,
  onDone,
}: {
  kind: Kind;
  name: string;
  status: string;
  onDone: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const running = status === 'RUNNING';
  return (
    <>
      <button
        type="button"
        class="small"
        disabled={busy}
        aria-label={`${running ? 'Stop' : 'Start'} ${name}`}
        onClick={() => {
          setBusy(true);
          api(`/orchestrator/${kind}/${encodeURIComponent(name)}:${running ? 'stop' : 'start'}`, {
            method: 'POST',
          }).then(
            () => {
              setBusy(false);
              setError(undefined);
              onDone();
            },
            (err: unknown) => {
              setBusy(false);
              setError(err as Error);
            },
          );
        }}
      >
        {running ? 'Stop' : 'Start'}
      </button>
      {error ? <ErrorBox error={error} /> : null}
    </>
  );
}

function LastTick({ ticks }: { ticks: Tick[] }) {
  const tick = ticks[0];
  return tick ? <Status value={tick.status} /> : <span class="muted">none</span>;
}

/** One half of the instigators page: the sensors or the schedules, each row with its start/stop toggle. */
function InstigatorList<T extends Instigator>({
  kind,
  title,
  columns,
  pollKey,
  cells,
}: {
  kind: Kind;
  title: string;
  columns: string[];
  pollKey: string;
  cells: (item: T) => ComponentChildren;
}) {
  const now = useNow();
  const list = useLoad(
    (signal) => api<{ resources: T[] }>(`/orchestrator/${kind}`, { signal }),
    pollKey,
    3000,
  );
  const noun = NOUN[kind];
  return (
    <section aria-labelledby={`${kind}-title`}>
      <h2 id={`${kind}-title`}>{title}</h2>
      <ListLoaded
        data={list.data}
        error={list.error}
        reload={list.reload}
        what={kind}
        empty={`No ${kind} are defined.`}
      >
        {(data) => (
          <DataTable columns={[noun, 'Status', ...columns, 'Last tick', 'Result', 'Action']}>
            <tbody>
              {data.resources.map((s) => (
                <tr key={s.name} {...{ [`data-${noun.toLowerCase()}`]: s.name }} data-status={s.status}>
                  <td>
                    <Link href={`/${kind}/${s.name}`}>{s.name}</Link>
                  </td>
                  <td>
                    <Status value={s.status} />
                  </td>
                  {cells(s)}
                  <td>{age(s.lastTickStart, now)}</td>
                  <td>
                    <LastTick ticks={s.lastTicks} />
                  </td>
                  <td>
                    <Toggle kind={kind} name={s.name} status={s.status} onDone={list.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </DataTable>
        )}
      </ListLoaded>
    </section>
  );
}

export function InstigatorsPage() {
  return (
    <>
      <PageTitle title="Sensors & schedules" />
      <InstigatorList<Sensor>
        kind="sensors"
        title="Sensors"
        pollKey="s"
        columns={['Jobs', 'Interval', 'Cursor']}
        cells={(s) => (
          <>
            <td>{s.jobNames.join(', ')}</td>
            <td>every {duration(s.minimumIntervalSeconds * 1000)}</td>
            <td class="mono clip" title={s.cursor}>
              {s.cursor ?? '—'}
            </td>
          </>
        )}
      />
      <InstigatorList<Schedule>
        kind="schedules"
        title="Schedules"
        pollKey="c"
        columns={['Job', 'Cron', 'Next']}
        cells={(s) => (
          <>
            <td>{s.jobName}</td>
            <td>
              <code>{s.cron}</code> {s.timezone}
            </td>
            <td>{s.status === 'RUNNING' ? time(s.nextScheduledTime) : '—'}</td>
          </>
        )}
      />
    </>
  );
}

function Ticks({ kind, name }: { kind: Kind; name: string }) {
  const [filters, setFilters] = useFilters(['ticks'] as const);
  const now = useNow();
  const ticks = useLoad(
    (signal) =>
      api<Page<Tick>>(
        `/orchestrator/${kind}/${encodeURIComponent(name)}/ticks${query({ max_page_size: 25, page_token: filters.ticks || undefined })}`,
        { signal },
      ),
    `${kind}/${name}/${filters.ticks}`,
    filters.ticks ? undefined : 2000,
  );
  return (
    <section aria-labelledby="ticks-title">
      <h2 id="ticks-title">Tick history</h2>
      <PagedTable
        list={ticks}
        what="ticks"
        empty="No ticks yet."
        columns={['Tick', 'Status', 'Started', 'Took', 'Cursor', 'Skip reason or error', 'Runs requested']}
        class="ticks"
        label="Pages of ticks"
        cursor={filters.ticks}
        go={(ticks) => setFilters({ ticks })}
        firstText="Newest ticks"
        nextText="Older ticks"
        row={(t) => (
          <tr key={t.id} data-tick={t.id} data-status={t.status}>
            <td>{t.id}</td>
            <td>
              <Status value={t.status} />
            </td>
            <td title={time(t.startedAt)}>{age(t.startedAt, now)}</td>
            <td>{t.endedAt ? duration(Date.parse(t.endedAt) - Date.parse(t.startedAt)) : '—'}</td>
            <td class="mono clip">
              {t.cursorAfter !== undefined && t.cursorAfter !== t.cursorBefore
                ? `${t.cursorBefore ?? '∅'} → ${t.cursorAfter}`
                : (t.cursorBefore ?? '—')}
            </td>
            <td>
              {t.skipReason ?? ''}
              {t.error ? (
                <span class="field-error">
                  {typeof t.error.message === 'string' ? t.error.message : JSON.stringify(t.error)}
                </span>
              ) : null}
            </td>
            <td>
              {t.runIds.length === 0
                ? '—'
                : t.runIds.map((id) => (
                    <Link key={id} href={`/runs/${id}`} class="mono run-link">
                      {shortId(id)}
                    </Link>
                  ))}
            </td>
          </tr>
        )}
      />
    </section>
  );
}

/** A sensor's or a schedule's page: its facts, a start/stop toggle and its tick history. */
function InstigatorDetail<T extends Instigator>({
  kind,
  name,
  facts,
}: {
  kind: Kind;
  name: string;
  facts: (item: T) => ComponentChildren;
}) {
  const now = useNow();
  const item = useLoad(
    (signal) => api<T>(`/orchestrator/${kind}/${encodeURIComponent(name)}`, { signal }),
    name,
    2000,
  );
  return (
    <Loaded data={item.data} error={item.error} reload={item.reload} what={`the ${NOUN[kind].toLowerCase()}`}>
      {(s) => (
        <>
          <PageTitle title={`${NOUN[kind]} ${s.name}`}>
            <Toggle kind={kind} name={s.name} status={s.status} onDone={item.reload} />
          </PageTitle>
          <p>{s.description}</p>
          <dl class="facts">
            <Fact term="Status">
              <Status value={s.status} />
            </Fact>
            {facts(s)}
            <Fact term="Last tick">{age(s.lastTickStart, now)}</Fact>
          </dl>
          <Ticks kind={kind} name={s.name} />
        </>
      )}
    </Loaded>
  );
}

export function SensorDetail({ name }: { name: string }) {
  return (
    <InstigatorDetail<Sensor>
      kind="sensors"
      name={name}
      facts={(s) => (
        <>
          <Fact term="Jobs">{s.jobNames.join(', ')}</Fact>
          <Fact term="Interval">every {duration(s.minimumIntervalSeconds * 1000)}</Fact>
          <Fact term="Cursor" valueClass="mono">
            {s.cursor ?? '—'}
          </Fact>
        </>
      )}
    />
  );
}

export function ScheduleDetail({ name }: { name: string }) {
  return (
    <InstigatorDetail<Schedule>
      kind="schedules"
      name={name}
      facts={(s) => (
        <>
          <Fact term="Job">
            <Link href={`/jobs/${s.jobName}`}>{s.jobName}</Link>
          </Fact>
          <Fact term="Cron">
            <code>{s.cron}</code> ({s.timezone})
          </Fact>
          <Fact term="Next">{s.status === 'RUNNING' ? time(s.nextScheduledTime) : 'stopped'}</Fact>
        </>
      )}
    />
  );
}
