// A status as a word with a colour that repeats it (never colour alone).
import { statusWords } from '../words.js';

const TONE: Record<string, string> = {
  succeeded: 'good',
  refunded: 'good',
  completed: 'good',
  approved: 'good',
  pending: 'wait',
  processing: 'wait',
  queued: 'wait',
  running: 'wait',
  awaiting_approval: 'wait',
  requires_action: 'wait',
  requires_capture: 'wait',
  failed: 'bad',
  refused: 'bad',
  rejected: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${TONE[status] ?? 'plain'}`}>{statusWords(status)}</span>;
}
