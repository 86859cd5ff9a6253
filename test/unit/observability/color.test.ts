import { describe, expect, it } from 'vitest';
import { colorAllowed } from '../../../src/observability/color.js';

describe('colorAllowed', () => {
  it('colours a terminal only, and never with a non-empty NO_COLOR', () => {
    expect(colorAllowed({ isTTY: true }, {})).toBe(true);
    expect(colorAllowed({ isTTY: false }, {})).toBe(false);
    expect(colorAllowed({}, {})).toBe(false);
    expect(colorAllowed({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorAllowed({ isTTY: true }, { NO_COLOR: 'false' })).toBe(false);
    // no-color.org: an empty value does not disable colour.
    expect(colorAllowed({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });
});
