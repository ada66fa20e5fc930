// A legitimate MTA: a queue per client, kept connections, and retries of every
// temporary failure (4xx, 421, refused connections) with exponential backoff
// until `retry.max`, as Postfix's queue manager does.
import type { MailerPlan } from '../plan.ts';
import type { ActorContext } from './context.ts';
import { runMailer } from './mailer.ts';

export function runLegit(ctx: ActorContext<MailerPlan>): Promise<void> {
  return runMailer(ctx, { flavour: 'legit', retry: ctx.plan.spec.retry });
}
