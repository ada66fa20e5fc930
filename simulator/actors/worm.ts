// A mass-mailing worm (Mydoom, Netsky): bursts of fresh connections, each
// carrying a message with an executable attachment (`invoice.pdf.exe`) to many
// recipients; it never retries.
import type { MailerPlan } from '../plan.ts';
import type { ActorContext } from './context.ts';
import { runMailer } from './mailer.ts';

export function runWorm(ctx: ActorContext<MailerPlan>): Promise<void> {
  return runMailer(ctx, { flavour: 'worm', retry: ctx.plan.spec.retry });
}
