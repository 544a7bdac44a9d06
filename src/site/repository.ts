import { repository } from '../orchestrator/core/index.js';
import { hello } from './hello.js';
import { housekeeping, housekeepingWeekly } from './housekeeping.js';

/**
 * The hub's own definitions (the equivalent of nmdc_runtime.site.repository). To add a job, sensor or
 * schedule, define it in a file beside this one and list it here; the daemon registers its sensors and
 * schedules at the next boot, and the API and CLI list its jobs.
 */
export const siteRepository = repository({
  name: 'runtime_hub',
  jobs: [hello, housekeeping],
  sensors: [],
  schedules: [housekeepingWeekly],
});
