import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nextCallableAt, type CallWindow } from '../src/domain/calling-window';
import { CampaignInputSchema } from '../src/domain/campaign-schema';

const weekdays: CallWindow = { from: '09:00', to: '20:00', days: [1, 2, 3, 4, 5], timeZone: 'America/New_York' };
const at = (iso: string) => Date.parse(iso);

describe('calling window', () => {
  test('inside the window: now', () => {
    // Tue 2026-11-24 10:00 in New York = 15:00 UTC
    assert.equal(nextCallableAt(at('2026-11-24T15:00:00Z'), weekdays, undefined), at('2026-11-24T15:00:00Z'));
  });
  test('before opening: today at `from`, in the contact’s own zone', () => {
    // 06:00 UTC = 07:00 in Paris (Tue) → opens 09:00 Paris = 08:00 UTC
    assert.equal(nextCallableAt(at('2026-11-24T06:00:00Z'), weekdays, 'Europe/Paris'), at('2026-11-24T08:00:00Z'));
  });
  test('after closing on Friday: Monday morning', () => {
    // Fri 2026-11-27 21:00 New York → Mon 2026-11-30 09:00 New York = 14:00 UTC
    assert.equal(nextCallableAt(at('2026-11-28T02:00:00Z'), weekdays, undefined), at('2026-11-30T14:00:00Z'));
  });
  test('across a DST change the local hour holds', () => {
    // Sun 2026-03-08 is the US spring-forward day: Monday 09:00 EDT = 13:00 UTC (not 14:00)
    assert.equal(nextCallableAt(at('2026-03-07T12:00:00Z'), weekdays, undefined), at('2026-03-09T13:00:00Z'));
  });
  test('the schema reads day names and refuses bad zones and inverted windows', () => {
    const base = { campaignId: 'w', agentName: 'a', contacts: [{ contactId: 'x' }] };
    const ok = CampaignInputSchema.parse({ ...base, callWindow: { from: '09:00', to: '17:30', days: ['mon', 'sun'] } });
    assert.deepEqual(ok.callWindow?.days, [1, 7]);
    assert.equal(ok.callWindow?.timeZone, 'UTC');
    const bad = CampaignInputSchema.safeParse({ ...base, callWindow: { from: '18:00', to: '09:00', timeZone: 'Mars/Olympus' }, contacts: [{ contactId: 'x', timeZone: 'Nowhere' }] });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('callWindow.timeZone'), paths.join());
    assert.ok(paths.includes('contacts.0.timeZone'), paths.join());
  });
});
