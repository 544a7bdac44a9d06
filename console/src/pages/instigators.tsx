import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';

import { api, query, type Page, type Schedule, type Sensor, type Tick } from '../api';
import { Empty, ErrorBox, Loaded, PageTitle, Status } from '../components/ui';
import { age, duration, shortId, time } from '../format';
import { useFilters, useLoad, useNow } from '../hooks';

type Kind = 'sensors' | 'schedules';

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

export function InstigatorsPage() {
  const now = useNow();
  const sensors = useLoad(
    (signal) => api<{ resources: Sensor[] }>('/orchestrator/sensors', { signal }),
    's',
    3000,
  );
  const schedules = useLoad(
    (signal) => api<{ resources: Schedule[] }>('/orchestrator/schedules', { signal }),
    'c',
    3000,
  );
  return (
    <>
      <PageTitle title="Sensors & schedules" />
      <section aria-labelledby="sensors-title">
        <h2 id="sensors-title">Sensors</h2>
        <Loaded data={sensors.data} error={sensors.error} reload={sensors.reload} what="sensors">
          {(data) =>
            data.resources.length === 0 ? (
              <Empty>No sensors are defined.</Empty>
            ) : (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Sensor</th>
                      <th scope="col">Status</th>
                      <th scope="col">Jobs</th>
                      <th scope="col">Interval</th>
                      <th scope="col">Cursor</th>
                      <th scope="col">Last tick</th>
                      <th scope="col">Result</th>
                      <th scope="col">Action</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.resources.map((s) => (
                      <tr key={s.name} data-sensor={s.name} data-status={s.status}>
                        <td>
                          <Link href={`/sensors/${s.name}`}>{s.name}</Link>
                        </td>
                        <td>
                          <Status value={s.status} />
                        </td>
                        <td>{s.jobNames.join(', ')}</td>
                        <td>every {duration(s.minimumIntervalSeconds * 1000)}</td>
                        <td class="mono clip" title={s.cursor}>
                          {s.cursor ?? '—'}
                        </td>
                        <td>{age(s.lastTickStart, now)}</td>
                        <td>
                          <LastTick ticks={s.lastTicks} />
                        </td>
                        <td>
                          <Toggle kind="sensors" name={s.name} status={s.status} onDone={sensors.reload} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Loaded>
      </section>
      <section aria-labelledby="schedules-title">
        <h2 id="schedules-title">Schedules</h2>
        <Loaded data={schedules.data} error={schedules.error} reload={schedules.reload} what="schedules">
          {(data) =>
            data.resources.length === 0 ? (
              <Empty>No schedules are defined.</Empty>
            ) : (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Schedule</th>
                      <th scope="col">Status</th>
                      <th scope="col">Job</th>
                      <th scope="col">Cron</th>
                      <th scope="col">Next</th>
                      <th scope="col">Last tick</th>
                      <th scope="col">Result</th>
                      <th scope="col">Action</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.resources.map((s) => (
                      <tr key={s.name} data-schedule={s.name} data-status={s.status}>
                        <td>
                          <Link href={`/schedules/${s.name}`}>{s.name}</Link>
                        </td>
                        <td>
                          <Status value={s.status} />
                        </td>
                        <td>{s.jobName}</td>
                        <td>
                          <code>{s.cron}</code> {s.timezone}
                        </td>
                        <td>{s.status === 'RUNNING' ? time(s.nextScheduledTime) : '—'}</td>
                        <td>{age(s.lastTickStart, now)}</td>
                        <td>
                          <LastTick ticks={s.lastTicks} />
                        </td>
                        <td>
                          <Toggle
                            kind="schedules"
                            name={s.name}
                            status={s.status}
                            onDone={schedules.reload}
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Loaded>
      </section>
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
      <Loaded data={ticks.data} error={ticks.error} reload={ticks.reload} what="ticks">
        {(page) =>
          page.resources.length === 0 ? (
            <Empty>No ticks yet.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table class="ticks">
                  <thead>
                    <tr>
                      <th scope="col">Tick</th>
                      <th scope="col">Status</th>
                      <th scope="col">Started</th>
                      <th scope="col">Took</th>
                      <th scope="col">Cursor</th>
                      <th scope="col">Skip reason or error</th>
                      <th scope="col">Runs requested</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.resources.map((t) => (
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
                              {typeof t.error.message === 'string'
                                ? t.error.message
                                : JSON.stringify(t.error)}
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
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Pages of ticks">
                {filters.ticks ? (
                  <button type="button" onClick={() => setFilters({ ticks: '' })}>
                    Newest ticks
                  </button>
                ) : null}
                {page.next_page_token ? (
                  <button type="button" onClick={() => setFilters({ ticks: page.next_page_token ?? '' })}>
                    Older ticks
                  </button>
                ) : null}
              </nav>
            </>
          )
        }
      </Loaded>
    </section>
  );
}

export function SensorDetail({ name }: { name: string }) {
  const now = useNow();
  const sensor = useLoad(
    (signal) => api<Sensor>(`/orchestrator/sensors/${encodeURIComponent(name)}`, { signal }),
    name,
    2000,
  );
  return (
    <Loaded data={sensor.data} error={sensor.error} reload={sensor.reload} what="the sensor">
      {(s) => (
        <>
          <PageTitle title={`Sensor ${s.name}`}>
            <Toggle kind="sensors" name={s.name} status={s.status} onDone={sensor.reload} />
          </PageTitle>
          <p>{s.description}</p>
          <dl class="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <Status value={s.status} />
              </dd>
            </div>
            <div>
              <dt>Jobs</dt>
              <dd>{s.jobNames.join(', ')}</dd>
            </div>
            <div>
              <dt>Interval</dt>
              <dd>every {duration(s.minimumIntervalSeconds * 1000)}</dd>
            </div>
            <div>
              <dt>Cursor</dt>
              <dd class="mono">{s.cursor ?? '—'}</dd>
            </div>
            <div>
              <dt>Last tick</dt>
              <dd>{age(s.lastTickStart, now)}</dd>
            </div>
          </dl>
          <Ticks kind="sensors" name={s.name} />
        </>
      )}
    </Loaded>
  );
}

export function ScheduleDetail({ name }: { name: string }) {
  const now = useNow();
  const schedule = useLoad(
    (signal) => api<Schedule>(`/orchestrator/schedules/${encodeURIComponent(name)}`, { signal }),
    name,
    2000,
  );
  return (
    <Loaded data={schedule.data} error={schedule.error} reload={schedule.reload} what="the schedule">
      {(s) => (
        <>
          <PageTitle title={`Schedule ${s.name}`}>
            <Toggle kind="schedules" name={s.name} status={s.status} onDone={schedule.reload} />
          </PageTitle>
          <p>{s.description}</p>
          <dl class="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <Status value={s.status} />
              </dd>
            </div>
            <div>
              <dt>Job</dt>
              <dd>
                <Link href={`/jobs/${s.jobName}`}>{s.jobName}</Link>
              </dd>
            </div>
            <div>
              <dt>Cron</dt>
              <dd>
                <code>{s.cron}</code> ({s.timezone})
              </dd>
            </div>
            <div>
              <dt>Next</dt>
              <dd>{s.status === 'RUNNING' ? time(s.nextScheduledTime) : 'stopped'}</dd>
            </div>
            <div>
              <dt>Last tick</dt>
              <dd>{age(s.lastTickStart, now)}</dd>
            </div>
          </dl>
          <Ticks kind="schedules" name={s.name} />
        </>
      )}
    </Loaded>
  );
}
