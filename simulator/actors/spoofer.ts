// CEO fraud: a message in the name of a domain whose SPF and DMARC records do not
// list this sender, sent through a mail service that retries a 4xx like any MTA
// (greylisting only delays it): what stops it is sender authentication.
import type { MailerPlan } from '../plan.ts';
import type { ActorContext } from './context.ts';
import { runMailer } from './mailer.ts';

export function runSpoofer(ctx: ActorContext<MailerPlan>): Promise<void> {
  return runMailer(ctx, { flavour: 'fraud', retry: ctx.plan.spec.retry });
}
