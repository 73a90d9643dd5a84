import { describe, it, expect } from 'vitest';
import { messageTemplate } from './template.js';

describe('messageTemplate', () => {
  it('masks numbers, so two products without a price share one template', () => {
    expect(messageTemplate('Product #999 has no price')).toBe('Product #<num> has no price');
    expect(messageTemplate('Product #1001 has no price')).toBe(messageTemplate('Product #999 has no price'));
  });
  it('masks uuids, hex ids and quoted values', () => {
    expect(messageTemplate('order 3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b failed for "Ana"')).toBe('order <uuid> failed for <str>');
    expect(messageTemplate('commit deadbeef01 and 0xff00 rejected')).toBe('commit <hex> and <hex> rejected');
    expect(messageTemplate("user 'bob' timed out after 20.5s")).toBe('user <str> timed out after <num>s');
  });
  it('keeps words that merely look hexadecimal', () => {
    expect(messageTemplate('cafe accepted the deadbeef order')).toBe('cafe accepted the deadbeef order');
  });
  it('is empty for a missing message and cuts long ones', () => {
    expect(messageTemplate(undefined)).toBe('');
    expect(messageTemplate('x'.repeat(2000)).length).toBe(512);
  });
});
