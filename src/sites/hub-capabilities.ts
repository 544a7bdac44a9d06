/**
 * Capabilities only the hub's own site may hold: the work it does itself (applying JSON submissions and
 * changesheets, src/site/registry.yaml). A remote site holding one could claim the hub's jobs and post
 * fake results for them, so no grant, request or stored document gives one to any other site.
 */
export const HUB_SITE_CAPABILITIES: readonly string[] = Object.freeze(['metadata-ingest']);

export function isHubInternal(capabilityId: string): boolean {
  return HUB_SITE_CAPABILITIES.includes(capabilityId);
}

/**
 * The capabilities a site may act on: those granted to it, less any hub-internal one held by a site other
 * than the hub (a document written before grants existed may still list one).
 */
export function effectiveCapabilities(
  site: { readonly id: string; readonly capability_ids: readonly string[] },
  hubSiteId: string,
): string[] {
  return site.id === hubSiteId
    ? [...site.capability_ids]
    : site.capability_ids.filter((capability) => !isHubInternal(capability));
}

/** True when only the hub may run jobs of a workflow needing these capabilities. */
export function isHubWorkflow(workflowCapabilities: readonly string[]): boolean {
  return workflowCapabilities.some(isHubInternal);
}
