import { graph, hostResource, op, runRequest, sensor, skipReason } from '../orchestrator/core/index.js';

/** What the claim-keeping definitions need from the hub; the worker binds the job-claim services. */
export interface HubClaims {
  /** How many open operations are past their lease right now. */
  countStaleClaims(): Promise<number>;
  /** Closes every open operation past its lease with DEADLINE_EXCEEDED and frees its job; their ids. */
  expireStaleClaims(): Promise<string[]>;
}

export const HUB_CLAIMS = 'hub_claims';

export const expireStaleClaimsOp = op(
  {
    name: 'expire_stale_claims',
    description:
      'Close claims whose lease ended without a report (DEADLINE_EXCEEDED) so their jobs can be claimed again',
    requiredResources: [HUB_CLAIMS],
  },
  async (ctx) => {
    const expired = await (ctx.resources[HUB_CLAIMS] as HubClaims).expireStaleClaims();
    ctx.log.info(`expired ${expired.length} claim(s)`, { operations: expired });
    return expired;
  },
);

export const expireClaims = graph(
  'expire_claims',
  ({ call }) => {
    call(expireStaleClaimsOp);
  },
  { description: 'Frees the jobs of claims whose lease ran out' },
).toJob({ resources: { [HUB_CLAIMS]: hostResource<HubClaims>(HUB_CLAIMS) } });

/**
 * Every minute: when some lease has run out, request one run of `expire_claims` for that minute (the run
 * key keeps two daemons from requesting it twice).
 */
export const expireStaleClaimsSensor = sensor(
  {
    name: 'expire_stale_claims',
    description: 'Requests expire_claims when open operations are past their lease',
    job: expireClaims,
    minimumIntervalSeconds: 60,
    defaultStatus: 'RUNNING',
    requiredResources: [HUB_CLAIMS],
  },
  async (ctx) => {
    const stale = await (ctx.resources[HUB_CLAIMS] as HubClaims).countStaleClaims();
    if (stale === 0) {
      return skipReason('no lease has run out');
    }
    return runRequest({
      runKey: `expire-${Math.floor(Date.now() / 60_000)}`,
      tags: { stale: String(stale) },
    });
  },
);
