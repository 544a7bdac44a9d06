import { CronExpressionParser } from 'cron-parser';

/*
 * One cron grammar for the crons an operator sets (EXPORT_METADATA_CRON, ORCH_SCHEDULE_CRONS) and the
 * schedules the orchestrator core defines. It lives in config, the bottom of the dependency order, so both
 * import it; it is the only file of the hub the orchestrator core may import.
 */

const PREDEFINED = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/**
 * Problems with a cron and time zone. Definitions use five fields (minute precision, as Dagster);
 * `allowSeconds` also accepts a sixth, leading seconds field, for operator overrides such as a test
 * environment that needs a schedule to fire within seconds.
 */
export function checkCron(
  cron: string,
  timezone: string,
  options: { readonly allowSeconds?: boolean } = {},
): string[] {
  const problems: string[] = [];
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    problems.push(`timezone "${timezone}" is not an IANA time zone`);
    return problems;
  }
  const fields = cron.trim().split(/\s+/);
  const allowed = options.allowSeconds ? [5, 6] : [5];
  if (!PREDEFINED.has(cron.trim()) && !allowed.includes(fields.length)) {
    problems.push(
      options.allowSeconds
        ? `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week), or six with seconds first`
        : `cron "${cron}" must have five fields (minute hour day-of-month month day-of-week)`,
    );
    return problems;
  }
  try {
    CronExpressionParser.parse(cron, { tz: timezone });
  } catch (error) {
    problems.push(`cron "${cron}" does not parse: ${(error as Error).message}`);
  }
  return problems;
}
