// What each task needs, from a collector's integrations and its peers', and how a triage's
// LLM failure is put in words.
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { capabilitiesOf, triageNeeds } from './notifier.js';
import { classifyOpenAiError } from './triage.js';
import { RetryableError } from '../outbox/outbox.js';

const jira = { url: 'http://jira', email: 'a@b', api_token: 't', project: 'OPS', issue_type: 'Bug', components: [], priorities: {}, comment_every: 60_000 };
const openai = { base_url: 'http://llm', api_key: 'k', model: 'm', timeout: 5000 };

describe('capabilitiesOf', () => {
  it('names what a collector with these integrations can run', () => {
    expect(capabilitiesOf({})).toEqual([]);
    expect(capabilitiesOf({ jira, openai })).toEqual(['jira', 'llm']);
    const slack = { bot_token: 'x', api_url: 'http://s/', channel: '#oncall', workspaces: { T0SECOND01: { bot_token: 'y' } }, index_messages: false };
    expect(capabilitiesOf({ slack: slack as never, mattermost: {} as never })).toEqual(['slack', 'slack:T0SECOND01', 'mattermost']);
  });
});

describe('triageNeeds', () => {
  const rule = 'pos-missing-price@logs-pos-default';
  it('an LLM when this collector has one', () => {
    expect(triageNeeds(['llm', 'jira'], [], rule)).toEqual(['llm']);
    expect(triageNeeds(['llm', 'xero'], [], rule)).toEqual(['llm', 'xero']);
  });
  it('an LLM when a peer running the same rule has had one, though this collector has none', () => {
    expect(triageNeeds([], [{ capabilities: ['jira', 'llm'], rules: [rule] }], rule)).toEqual(['llm']);
    expect(triageNeeds([], [{ capabilities: ['llm', 'xero'], rules: [rule] }, { capabilities: ['llm'], rules: [rule] }], rule)).toEqual(['llm', 'xero']);
  });
  it('nothing when no collector running the rule has an LLM: runbook triage is then the truth', () => {
    expect(triageNeeds(['jira'], [{ capabilities: ['llm'], rules: ['other@logs-pos-default'] }, { capabilities: ['jira'], rules: [rule] }], rule)).toEqual([]);
  });
});

describe('classifyOpenAiError', () => {
  it('says what happened: timed out, rate-limited, server error and unreachable are retried; refusals are final', () => {
    const timeout = classifyOpenAiError(new OpenAI.APIConnectionTimeoutError(), 5000);
    expect(timeout).toBeInstanceOf(RetryableError);
    expect(timeout.message).toBe('LLM timed out after 5s');
    const unreachable = classifyOpenAiError(new OpenAI.APIConnectionError({ cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }));
    expect(unreachable).toBeInstanceOf(RetryableError);
    expect(unreachable.message).toBe('LLM unreachable: connect ECONNREFUSED 127.0.0.1:9');
    const limited = classifyOpenAiError(OpenAI.APIError.generate(429, { error: { message: 'Rate limit reached' } }, undefined, new Headers({ 'retry-after': '2' })));
    expect(limited).toBeInstanceOf(RetryableError);
    expect(limited.message).toMatch(/^LLM rate-limited \(429\)/);
    expect((limited as RetryableError).retryAfterMs).toBe(2000);
    expect(classifyOpenAiError(OpenAI.APIError.generate(500, { error: { message: 'boom' } }, undefined, new Headers()))).toBeInstanceOf(RetryableError);
    const key = classifyOpenAiError(OpenAI.APIError.generate(401, { error: { message: 'Incorrect API key provided.' } }, undefined, new Headers()));
    expect(key).not.toBeInstanceOf(RetryableError);
    expect(key.message).toMatch(/^LLM refused our credentials \(401\)/);
    const refused = classifyOpenAiError(OpenAI.APIError.generate(400, { error: { message: 'content policy' } }, undefined, new Headers()));
    expect(refused.message).toMatch(/^LLM refused the request \(400\)/);
  });
});
