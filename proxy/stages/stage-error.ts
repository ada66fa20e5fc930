// A DATA stage refusal: an Error that carries its reason and reply, the shape
// RelayTransaction.data() looks for (StageError), so the client gets the stage's
// reply and the backend connection is dropped before any final dot.
import { reply, type Reply, type ReplyReason } from '../replies.ts';

export interface StageFailure extends Error {
  reason: ReplyReason;
  reply: Reply;
}

export function stageError(reason: ReplyReason, detail: string): StageFailure {
  return Object.assign(new Error(`${reason}: ${detail}`), { reason, reply: reply(reason, detail) });
}
