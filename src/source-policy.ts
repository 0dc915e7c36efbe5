/**
 * What an SLS trigger event may ask of this function. The event is untrusted (the console's Test
 * Function or any caller with fc:InvokeFunction can write one); the function's settings are
 * trusted. So before any request: the endpoint must be Alibaba's (or named by the operator), and
 * the project and logstore must be the pinned ones when SLS_PROJECT / SLS_LOGSTORE are set.
 */
import { EventError } from './errors';
import type { TriggerEvent } from './event';
import type { SourcePolicy } from './sls/settings';
import { triggerEndpoint, type SlsEndpoint } from './sls/endpoint';

/** The endpoint to use for this event, or an EventError saying which setting refuses it. */
export function authorizeTrigger(trigger: TriggerEvent, policy: SourcePolicy): SlsEndpoint {
  for (const [field, setting, pinned, named] of [
    ['projectName', 'SLS_PROJECT', policy.project, trigger.project],
    ['logstoreName', 'SLS_LOGSTORE', policy.logstore, trigger.logstore],
  ] as const) {
    if (pinned !== undefined && named !== pinned) {
      throw new EventError(
        `Refused: the event names source.${field} "${named}", and this function serves only "${pinned}" (${setting}). ` +
          `No request was made. If the trigger really reads "${named}", change ${setting} in s.yaml; otherwise the event did not come from your SLS trigger.`,
      );
    }
  }
  return triggerEndpoint(trigger.endpoint, policy);
}
