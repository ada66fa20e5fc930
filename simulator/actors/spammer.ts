// A bulk spammer: high rate, many recipients, spammy content, and no queue:
// the first temporary failure ends the message (greylisting works on them).
import type { MailerPlan } from '../plan.ts';
import type { ActorContext } from './context.ts';
import { runMailer } from './mailer.ts';

export function runSpammer(ctx: ActorContext<MailerPlan>): Promise<void> {
  return runMailer(ctx, { flavour: 'spam', retry: ctx.plan.spec.retry });
}
