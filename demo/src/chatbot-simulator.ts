// Writes the chat bot's log: users send messages, the bot answers with a response time,
// and now and then fails. One JSON object per line (format "chatbot", see README).
import { pick, int } from './random.js';

const USERS = [
  { id: 'u1', name: 'Ana' },
  { id: 'u2', name: 'Ben' },
  { id: 'u3', name: 'Chen' },
  { id: 'u4', name: 'Dara' },
  { id: 'u5', name: 'Eli' },
  { id: 'u6', name: 'Farah' },
];
const QUESTIONS = ['hi', 'where is my order?', 'do you have vegan options?', 'what are your opening hours?', 'I was charged twice', 'can I change my order?'];
const ANSWERS = ['Hello! How can I help?', 'Your order is on its way.', 'Yes, try our Salad Bowl.', 'We are open 8:00–22:00.', 'Sorry about that, I have opened a refund request.', 'Sure, what would you like to change?'];
const ERRORS = [
  { type: 'LLM_TIMEOUT', message: 'upstream model timed out after 20s' },
  { type: 'RATE_LIMITED', message: 'upstream returned 429' },
];

/**
 * Response time of a healthy bot: mostly 80–900 ms, 2% up to 3 s (p95 well under 2 s).
 * A slow bot (slow = true) answers in 2.5–6 s.
 */
function responseTimeMs(rand: () => number, slow: boolean): number {
  if (slow) return int(rand, 2500, 6000);
  return rand() < 0.02 ? int(rand, 900, 3000) : int(rand, 80, 900);
}

/** One conversation turn: the user's message, then the bot's answer or an error. */
export function chatbotTurn(rand: () => number = Math.random, time = new Date(), errorRate = 0.03, slow = false): string[] {
  const user = pick(rand, USERS);
  const conversation_id = `c${int(rand, 1, 500)}`;
  const i = int(rand, 0, QUESTIONS.length - 1);
  const lines = [JSON.stringify({ ts: time.toISOString(), level: 'info', event: 'message_in', user_id: user.id, user_name: user.name, text: QUESTIONS[i], conversation_id })];
  const later = new Date(time.getTime() + responseTimeMs(rand, slow));
  if (rand() < errorRate) {
    const e = pick(rand, ERRORS);
    lines.push(JSON.stringify({ ts: later.toISOString(), level: 'error', event: 'error', user_id: user.id, conversation_id, error_type: e.type, error: e.message }));
  } else {
    lines.push(JSON.stringify({ ts: later.toISOString(), level: 'info', event: 'message_out', user_id: user.id, text: ANSWERS[i], conversation_id, response_time_ms: later.getTime() - time.getTime() }));
  }
  return lines;
}
