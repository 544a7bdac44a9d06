import { useEffect, useState } from 'preact/hooks';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter-preact';

import { logout, session } from './api';
import { ChangesheetPage, ChangesheetsPage } from './pages/changesheets';
import { InstigatorsPage, ScheduleDetail, SensorDetail } from './pages/instigators';
import { JobPage, JobsPage } from './pages/jobs';
import { LoginPage } from './pages/login';
import { ObjectPage, ObjectsPage } from './pages/objects';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SiteJobPage, SiteJobsPage } from './pages/site-jobs';

const NAV = [
  ['/runs', 'Runs'],
  ['/jobs', 'Jobs'],
  ['/automation', 'Sensors & schedules'],
  ['/changesheets', 'Changesheets'],
  ['/site-jobs', 'Site jobs'],
  ['/objects', 'Objects'],
] as const;

function useSession(): string | null {
  const [token, setToken] = useState(session.token);
  useEffect(() => session.subscribe(() => setToken(session.token)), []);
  return token;
}

function Nav() {
  const [location] = useLocation();
  const [open, setOpen] = useState(false);
  return (
    <nav aria-label="Console" class={open ? 'nav nav-open' : 'nav'}>
      <button
        type="button"
        class="nav-toggle"
        aria-expanded={open}
        aria-controls="nav-links"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <ul id="nav-links">
        {NAV.map(([href, label]) => {
          const current = location === href || location.startsWith(`${href}/`);
          return (
            <li key={href}>
              <Link href={href} aria-current={current ? 'page' : undefined} onClick={() => setOpen(false)}>
                {label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function Shell() {
  const [, navigate] = useLocation();
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/runs" class="brand">
          Runtime Hub
        </Link>
        <Nav />
        <div class="user">
          <span>{session.username}</span>
          <a href="/redoc">API</a>
          <button
            type="button"
            class="small"
            onClick={() => {
              void logout().finally(() => navigate('/login'));
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Switch>
          <Route path="/runs" component={RunsPage} />
          <Route path="/runs/:id">{(p) => <RunPage id={p.id} />}</Route>
          <Route path="/jobs" component={JobsPage} />
          <Route path="/jobs/:name">{(p) => <JobPage name={p.name} />}</Route>
          <Route path="/automation" component={InstigatorsPage} />
          <Route path="/sensors/:name">{(p) => <SensorDetail name={p.name} />}</Route>
          <Route path="/schedules/:name">{(p) => <ScheduleDetail name={p.name} />}</Route>
          <Route path="/changesheets" component={ChangesheetsPage} />
          <Route path="/changesheets/:id">{(p) => <ChangesheetPage id={p.id} />}</Route>
          <Route path="/site-jobs" component={SiteJobsPage} />
          <Route path="/site-jobs/:id">{(p) => <SiteJobPage id={p.id} />}</Route>
          <Route path="/objects" component={ObjectsPage} />
          <Route path="/objects/:id">{(p) => <ObjectPage id={p.id} />}</Route>
          <Route path="/">
            <Redirect to="/runs" replace />
          </Route>
          <Route>
            <p class="state state-error" role="alert">
              No console page lives here. <Link href="/runs">Go to the runs</Link>.
            </p>
          </Route>
        </Switch>
      </main>
    </div>
  );
}

function Gate() {
  const token = useSession();
  const [location] = useLocation();
  if (!token) {
    if (location === '/login') {
      return <LoginPage />;
    }
    const next = `${location}${window.location.search}`;
    return <Redirect to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  if (location === '/login') {
    return <Redirect to="/runs" replace />;
  }
  return <Shell />;
}

export function App() {
  return (
    <Router base="/console">
      <Gate />
    </Router>
  );
}
