import { hostResource, repository } from '../orchestrator/core/index.js';
import {
  applyChangesheet,
  CHANGESHEETS,
  claimAndRunApplyChangesheetJobs,
  type Changesheets,
} from './changesheets.js';
import {
  dailyExportMetadata,
  exportMetadata,
  importMetadata,
  METADATA_EXPORTS,
  type MetadataExports,
} from './exports.js';
import { hello } from './hello.js';
import { housekeeping, housekeepingWeekly } from './housekeeping.js';
import { expireClaims, expireStaleClaimsSensor, HUB_CLAIMS, type HubClaims } from './job-claims.js';
import { ensureJobs, HUB_TRIGGERS, processWorkflowJobTriggers, type HubTriggers } from './job-triggers.js';
import { applyMetadataIn, claimAndRunMetadataInJobs, METADATA_IN, type MetadataIn } from './metadata-in.js';

/**
 * The hub's own definitions (the equivalent of nmdc_runtime.site.repository). To add a job, sensor or
 * schedule, define it in a file beside this one and list it here; the daemon registers its sensors and
 * schedules at the next boot, and the API and CLI list its jobs.
 */
export const siteRepository = repository({
  name: 'runtime_hub',
  jobs: [
    hello,
    housekeeping,
    expireClaims,
    ensureJobs,
    applyMetadataIn,
    applyChangesheet,
    exportMetadata,
    importMetadata,
  ],
  sensors: [
    expireStaleClaimsSensor,
    processWorkflowJobTriggers,
    claimAndRunMetadataInJobs,
    claimAndRunApplyChangesheetJobs,
  ],
  schedules: [housekeepingWeekly, dailyExportMetadata],
  // Services of the hub that sensors use; the hosting process binds them (see orchestrator/host-values.ts).
  resources: {
    [HUB_CLAIMS]: hostResource<HubClaims>(HUB_CLAIMS),
    [HUB_TRIGGERS]: hostResource<HubTriggers>(HUB_TRIGGERS),
    [METADATA_IN]: hostResource<MetadataIn>(METADATA_IN),
    [CHANGESHEETS]: hostResource<Changesheets>(CHANGESHEETS),
    [METADATA_EXPORTS]: hostResource<MetadataExports>(METADATA_EXPORTS),
  },
});
